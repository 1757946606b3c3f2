/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tdx.c - the TDX attester ("tdx"): a quote through the kernel's configfs-tsm report
 * interface (Documentation/ABI/testing/configfs-tsm):
 *   mkdir <tsm_dir>/<entry>; check <entry>/provider == "tdx_guest"; read <entry>/generation;
 *   write 64 bytes to <entry>/inblob; read <entry>/outblob (the quote, produced by the host's
 *   QGS); read generation again (must be +1 after our write: otherwise another writer raced
 *   us); rmdir <entry>.
 * The directory is option "tdx.tsm_dir" (default /sys/kernel/config/tsm/report) so tests run
 * exactly these syscalls against a directory that behaves like the device.
 * Second path ("tdx.method=dev"): /dev/tdx_guest TDX_CMD_GET_REPORT0 (Linux uapi tdx-guest.h)
 * yields a 1024-byte TDREPORT over the report data; the host's Quote Generation Service turns
 * it into a quote: option "tdx.qgs" = vsock:CID:PORT (default vsock:2:4050) or unix:PATH,
 * Intel qgs_msg_lib GET_QUOTE_REQ / GET_QUOTE_RESP behind a 4-byte big-endian length (as
 * DCAP's tdx_attest does over vsock). The ioctl sits behind struct vti_tdx_dev_ops
 * (tdx_guest.h) so tests run this code against a fake device and a fake QGS.
 * Trust boundary: the TDREPORT, the QGS response and the quote are untrusted; every length
 * field of the response is checked against the bytes received, the quote is parsed and must
 * carry the requested report data. Verification is the verifier's job.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "attesters/tdx_guest.h"
#include "core/instance.h"
#include "evidence/intel_quote.h"
#include "util/cursor.h"
#include "util/secmem.h"

#define TSM_DEFAULT "/sys/kernel/config/tsm/report"
#define DEV_DEFAULT "/dev/tdx_guest"
#define QGS_DEFAULT "vsock:2:4050"
#define QGS_TIMEOUT_S 60 /* quote generation on the host may take seconds */

static int real_open(const char *p, int flags) { return open(p, flags); }
static int real_ioctl(int fd, unsigned long req, void *arg) { return ioctl(fd, req, arg); }
static int real_close(int fd) { return close(fd); }
static const struct vti_tdx_dev_ops real_ops = { real_open, real_ioctl, real_close };
static const struct vti_tdx_dev_ops *dev = &real_ops;

void vti_tdx_set_dev_ops(const struct vti_tdx_dev_ops *ops) { dev = ops ? ops : &real_ops; }

static vt_res read_small(const char *path, char *out, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ENSURE(fd >= 0, VT_ERR_INTEL_TSM_IO);
    ssize_t n = read(fd, out, cap - 1);
    close(fd);
    ENSURE(n >= 0, VT_ERR_INTEL_TSM_IO);
    out[n] = 0;
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
        out[--n] = 0;
    return vti_ok();
}

/* configfs creates an entry's attribute files with the entry; a bounded wait (2 s) lets a
 * test's fake device populate them. On a real system the first stat succeeds. */
static void wait_for(const char *path)
{
    struct stat st;
    for (int i = 0; i < 2000 && stat(path, &st) != 0; i++)
        nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
}

static vt_res gen_of(const char *entry, unsigned long *g)
{
    char p[4200], s[32];
    snprintf(p, sizeof(p), "%s/generation", entry);
    GUARD(read_small(p, s, sizeof(s)));
    char *end = NULL;
    *g = strtoul(s, &end, 10);
    ENSURE(end && end != s && *end == 0, VT_ERR_INTEL_TSM_IO);
    return vti_ok();
}

static bool exists(const char *p, bool want_dir)
{
    struct stat st;
    return stat(p, &st) == 0 && (!want_dir || S_ISDIR(st.st_mode));
}

static vt_res collect_tsm(const struct vti_attest_ctx *ctx, const uint8_t rd[64],
                          struct vt_buf *ev)
{
    const char *dir = vti_option(ctx, "tdx.tsm_dir", TSM_DEFAULT);
    char entry[4096], p[4200], prov[64];
    ENSURE((size_t)snprintf(entry, sizeof(entry), "%s/veritee-%ld", dir, (long)getpid()) <
               sizeof(entry), VT_ERR_INVALID_ARG);
    ENSURE(mkdir(entry, 0700) == 0, VT_ERR_INTEL_TSM_UNAVAILABLE);
    vt_res r = vti_ok();
    snprintf(p, sizeof(p), "%s/provider", entry);
    wait_for(p);
    GUARD_GOTO(read_small(p, prov, sizeof(prov)), r, out);
    ENSURE_GOTO(strcmp(prov, "tdx_guest") == 0, VT_ERR_INTEL_TSM_PROVIDER, r, out);
    unsigned long g0 = 0, g1 = 0;
    GUARD_GOTO(gen_of(entry, &g0), r, out);
    snprintf(p, sizeof(p), "%s/inblob", entry);
    int fd = open(p, O_WRONLY | O_CLOEXEC);
    ENSURE_GOTO(fd >= 0, VT_ERR_INTEL_TSM_IO, r, out);
    ssize_t w = write(fd, rd, 64);
    close(fd);
    ENSURE_GOTO(w == 64, VT_ERR_INTEL_TSM_IO, r, out);
    snprintf(p, sizeof(p), "%s/outblob", entry);
    wait_for(p);
    ev->len = 0;
    GUARD_GOTO(vti_file_read(p, VT_INTEL_MAX_QUOTE_LEN, ev), r, out);
    GUARD_GOTO(gen_of(entry, &g1), r, out);
    ENSURE_GOTO(g1 == g0 + 1, VT_ERR_INTEL_TSM_GENERATION, r, out);
    ENSURE_GOTO(vti_intel_quote_plausible(ev->p, ev->len), VT_ERR_INTEL_TSM_IO, r, out);
out:
    /* configfs removes the attribute files with the entry; a leftover entry is harmless */
    (void)rmdir(entry);
    return r;
}

/* ---- /dev/tdx_guest ---- */

static vt_res get_tdreport(const char *path, const uint8_t rd[64], uint8_t out[VTI_TDX_REPORT_LEN])
{
    struct vti_tdx_report_req req;
    memset(&req, 0, sizeof(req));
    memcpy(req.reportdata, rd, sizeof(req.reportdata));
    int fd = dev->open(path, O_RDWR | O_CLOEXEC);
    ENSURE(fd >= 0, VT_ERR_INTEL_TDX_DEV);
    int rc = dev->ioctl(fd, VTI_TDX_CMD_GET_REPORT0, &req);
    dev->close(fd);
    ENSURE(rc == 0, VT_ERR_INTEL_TDX_DEV);
    /* the kernel copies REPORTDATA into REPORTMACSTRUCT; anything else is not our report */
    ENSURE(req.tdreport[0] == VTI_TDX_REPORT_TYPE_TDX, VT_ERR_INTEL_TDX_REPORT);
    ENSURE(vti_ct_eq(req.tdreport + VTI_TDX_REPORT_RD_OFF, rd, 64), VT_ERR_INTEL_TDX_REPORT);
    memcpy(out, req.tdreport, VTI_TDX_REPORT_LEN);
    return vti_ok();
}

/* ---- QGS client ---- */

static bool parse_u32(const char *s, const char *stop, uint32_t *out)
{
    if (!s || s == stop || *s < '0' || *s > '9')
        return false;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end != stop || v > 0xffffffffull)
        return false;
    *out = (uint32_t)v;
    return true;
}

static vt_res qgs_connect(const char *addr, int *out)
{
    int fd = -1;
    if (strncmp(addr, "unix:", 5) == 0) {
        struct sockaddr_un un = { .sun_family = AF_UNIX };
        size_t n = strlen(addr + 5);
        ENSURE(n > 0 && n < sizeof(un.sun_path), VT_ERR_INTEL_QGS_ADDRESS);
        memcpy(un.sun_path, addr + 5, n + 1);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ENSURE(fd >= 0, VT_ERR_INTEL_QGS_CONNECT);
        if (connect(fd, (struct sockaddr *)&un, sizeof(un)) != 0) {
            close(fd);
            return VT_FAIL(VT_ERR_INTEL_QGS_CONNECT);
        }
    } else if (strncmp(addr, "vsock:", 6) == 0) {
        const char *cid_s = addr + 6, *colon = strchr(cid_s, ':');
        uint32_t cid = 0, port = 0;
        ENSURE(colon && parse_u32(cid_s, colon, &cid) &&
                   parse_u32(colon + 1, colon + 1 + strlen(colon + 1), &port),
               VT_ERR_INTEL_QGS_ADDRESS);
        struct sockaddr_vm vm = { .svm_family = AF_VSOCK, .svm_cid = cid, .svm_port = port };
        fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ENSURE(fd >= 0, VT_ERR_INTEL_QGS_CONNECT);
        if (connect(fd, (struct sockaddr *)&vm, sizeof(vm)) != 0) {
            close(fd);
            return VT_FAIL(VT_ERR_INTEL_QGS_CONNECT);
        }
    } else {
        return VT_FAIL(VT_ERR_INTEL_QGS_ADDRESS);
    }
    struct timeval tv = { QGS_TIMEOUT_S, 0 };
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    *out = fd;
    return vti_ok();
}

static vt_res send_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        ENSURE(w > 0, VT_ERR_INTEL_QGS_CONNECT);
        p += w;
        n -= (size_t)w;
    }
    return vti_ok();
}

/* Read exactly n bytes; a clean end of stream before that is a truncated response. */
static vt_res recv_all(int fd, uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t r = recv(fd, p, n, 0);
        if (r < 0 && errno == EINTR)
            continue;
        ENSURE(r >= 0, VT_ERR_INTEL_QGS_CONNECT);
        ENSURE(r > 0, VT_ERR_INTEL_QGS_TRUNCATED);
        p += r;
        n -= (size_t)r;
    }
    return vti_ok();
}

vt_res vti_qgs_parse_resp(const uint8_t *msg, size_t len, struct vt_buf *quote)
{
    struct vt_cur c = vti_cur_init(msg, len);
    uint16_t major = 0, minor = 0;
    uint32_t type = 0, size = 0, err = 0, id_size = 0, quote_size = 0;
    ENSURE(len >= VTI_QGS_HDR_LEN, VT_ERR_INTEL_QGS_TRUNCATED);
    GUARD(vti_cur_u16le(&c, &major));
    GUARD(vti_cur_u16le(&c, &minor));
    GUARD(vti_cur_u32le(&c, &type));
    GUARD(vti_cur_u32le(&c, &size));
    GUARD(vti_cur_u32le(&c, &err));
    ENSURE(major == VTI_QGS_MAJOR && minor <= VTI_QGS_MINOR_MAX, VT_ERR_INTEL_QGS_VERSION);
    ENSURE(type == VTI_QGS_GET_QUOTE_RESP, VT_ERR_INTEL_QGS_TYPE);
    ENSURE(size == len, VT_ERR_INTEL_QGS_SIZE);
    /* an error response may carry only the header */
    ENSURE(err == 0, VT_ERR_INTEL_QGS_ERROR);
    ENSURE(vti_cur_left(&c) >= 8, VT_ERR_INTEL_QGS_SIZE);
    GUARD(vti_cur_u32le(&c, &id_size));
    GUARD(vti_cur_u32le(&c, &quote_size));
    ENSURE((uint64_t)id_size + quote_size == vti_cur_left(&c), VT_ERR_INTEL_QGS_SIZE);
    ENSURE(quote_size > 0, VT_ERR_INTEL_QGS_SIZE);
    GUARD(vti_cur_skip(&c, id_size));
    const uint8_t *q = NULL;
    GUARD(vti_cur_view(&c, quote_size, &q));
    quote->len = 0;
    return vti_buf_append(quote, q, quote_size);
}

static vt_res qgs_get_quote(const char *addr, const uint8_t report[VTI_TDX_REPORT_LEN],
                            struct vt_buf *quote)
{
    const uint32_t msg_len = VTI_QGS_HDR_LEN + 8 + VTI_TDX_REPORT_LEN;
    struct vt_buf req = VT_BUF_INIT, resp = VT_BUF_INIT;
    int fd = -1;
    vt_res r = vti_ok();
    uint8_t pfx[4] = { (uint8_t)(msg_len >> 24), (uint8_t)(msg_len >> 16),
                       (uint8_t)(msg_len >> 8), (uint8_t)msg_len };
    GUARD_GOTO(vti_buf_append(&req, pfx, 4), r, out);
    GUARD_GOTO(vti_buf_u16le(&req, VTI_QGS_MAJOR), r, out);
    GUARD_GOTO(vti_buf_u16le(&req, 0), r, out);
    GUARD_GOTO(vti_buf_u32le(&req, VTI_QGS_GET_QUOTE_REQ), r, out);
    GUARD_GOTO(vti_buf_u32le(&req, msg_len), r, out);
    GUARD_GOTO(vti_buf_u32le(&req, 0), r, out);
    GUARD_GOTO(vti_buf_u32le(&req, VTI_TDX_REPORT_LEN), r, out);
    GUARD_GOTO(vti_buf_u32le(&req, 0), r, out); /* no id list: the QGS picks its default */
    GUARD_GOTO(vti_buf_append(&req, report, VTI_TDX_REPORT_LEN), r, out);
    GUARD_GOTO(qgs_connect(addr, &fd), r, out);
    GUARD_GOTO(send_all(fd, req.p, req.len), r, out);
    GUARD_GOTO(recv_all(fd, pfx, 4), r, out);
    size_t n = ((size_t)pfx[0] << 24) | ((size_t)pfx[1] << 16) | ((size_t)pfx[2] << 8) | pfx[3];
    ENSURE_GOTO(n <= VTI_QGS_MAX_MSG, VT_ERR_INTEL_QGS_TOO_LARGE, r, out);
    ENSURE_GOTO(n >= VTI_QGS_HDR_LEN, VT_ERR_INTEL_QGS_SIZE, r, out);
    GUARD_GOTO(vti_buf_reserve(&resp, n), r, out);
    GUARD_GOTO(recv_all(fd, resp.p, n), r, out);
    resp.len = n;
    GUARD_GOTO(vti_qgs_parse_resp(resp.p, resp.len, quote), r, out);
out:
    if (fd >= 0)
        close(fd);
    vti_buf_free(&req);
    vti_buf_free(&resp);
    return r;
}

static vt_res collect_dev(const struct vti_attest_ctx *ctx, const uint8_t rd[64],
                          struct vt_buf *ev)
{
    uint8_t report[VTI_TDX_REPORT_LEN];
    GUARD(get_tdreport(vti_option(ctx, "tdx.dev", DEV_DEFAULT), rd, report));
    ev->len = 0;
    GUARD(qgs_get_quote(vti_option(ctx, "tdx.qgs", QGS_DEFAULT), report, ev));
    struct vt_intel_quote q;
    ENSURE(vti_is_ok(vt_intel_quote_parse(ev->p, ev->len, &q)), VT_ERR_INTEL_QGS_QUOTE);
    ENSURE(q.body_type == VT_INTEL_BODY_TD10 || q.body_type == VT_INTEL_BODY_TD15,
           VT_ERR_INTEL_QGS_QUOTE);
    ENSURE(vti_ct_eq(q.td.report_data, rd, 64), VT_ERR_INTEL_QGS_QUOTE);
    return vti_ok();
}

/* tdx.method: explicit, else configfs when the tsm directory exists, else dev. */
static vt_res method_of(const struct vti_attest_ctx *ctx, bool *use_dev)
{
    const char *m = vti_option(ctx, "tdx.method", NULL);
    if (!m) {
        *use_dev = !exists(vti_option(ctx, "tdx.tsm_dir", TSM_DEFAULT), true);
        return vti_ok();
    }
    ENSURE(strcmp(m, "configfs") == 0 || strcmp(m, "dev") == 0, VT_ERR_INTEL_TDX_METHOD);
    *use_dev = strcmp(m, "dev") == 0;
    return vti_ok();
}

static bool tdx_detect(const struct vti_attest_ctx *ctx)
{
    bool use_dev = false;
    if (!vti_is_ok(method_of(ctx, &use_dev)))
        return false;
    return use_dev ? exists(vti_option(ctx, "tdx.dev", DEV_DEFAULT), false)
                   : exists(vti_option(ctx, "tdx.tsm_dir", TSM_DEFAULT), true);
}

static vt_res tdx_collect(const struct vti_attest_ctx *ctx, const uint8_t rd[64],
                          struct vt_buf *ev, struct vt_buf *endo)
{
    (void)endo;
    bool use_dev = false;
    GUARD(method_of(ctx, &use_dev));
    return use_dev ? collect_dev(ctx, rd, ev) : collect_tsm(ctx, rd, ev);
}

static const char *const tdx_options[] = { "tdx.tsm_dir", "tdx.method", "tdx.dev", "tdx.qgs", NULL };
static const struct vt_attester_ops tdx_attester = {
    .hdr = { VT_INSTANCE_ABI, VT_KIND_ATTESTER, "tdx", 50, 0, tdx_options },
    .tee = "tdx",
    .cbor_tag = 60000,
    .detect = tdx_detect,
    .collect = tdx_collect,
    .sim_init = NULL,
};
const struct vt_instance_hdr *const vt_inst_tdx_attester = &tdx_attester.hdr;
