/* SPDX-License-Identifier: Apache-2.0 */
/*
 * snp.c - the real AMD SEV-SNP attester ("snp"), run inside an SNP guest.
 *
 * Owns: getting a report (and the host's certificate table) from the guest kernel through
 *   1. configfs-tsm (Linux >= 6.7): DIR/<entry>/ with provider "sev_guest"; write privlevel
 *      and inblob (64-byte report data), read outblob (the report) and auxblob (the
 *      SNP_GET_EXT_REPORT certificate table), compare generation before and after reading;
 *   2. /dev/sev-guest ioctls SNP_GET_EXT_REPORT (falling back to SNP_GET_REPORT), structs as in
 *      the Linux uAPI sev-guest.h (see snp.h). The ioctl sits behind struct vti_snp_dev_ops,
 *      which tests replace with a fake device.
 * Options: "snp.tsm_dir" (default /sys/kernel/config/tsm/report), "snp.dev" (default
 * /dev/sev-guest), "snp.vmpl" (privlevel 0..3, default 0), "snp.method" (tsm|ioctl; default:
 * tsm if its directory exists), "snp.tsm_name" (use this existing entry name and keep it;
 * default: a fresh entry veritee-<pid>-<n>, removed afterwards).
 * Endorsements: the certificate table wrapped in one CBOR byte string (see amd_certs.h).
 * Trust boundary: what the kernel returns is checked for size and plausibility and for the
 * requested report data; it is verified only by the verifier on the other side.
 */
#include "attesters/snp.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/instance.h"
#include "endorsements/amd_certs.h"
#include "evidence/snp_report.h"
#include "util/cursor.h"
#include "util/secmem.h"

#define SNP_TAG 0x1a7504u
#define DEF_TSM "/sys/kernel/config/tsm/report"
#define DEF_DEV "/dev/sev-guest"
#define MAX_CERTS_LEN (256u * 1024u)

static int real_open(const char *p, int flags) { return open(p, flags); }
static int real_ioctl(int fd, unsigned long req, void *arg) { return ioctl(fd, req, arg); }
static int real_close(int fd) { return close(fd); }
static const struct vti_snp_dev_ops real_ops = { real_open, real_ioctl, real_close };
static const struct vti_snp_dev_ops *dev = &real_ops;

void vti_snp_set_dev_ops(const struct vti_snp_dev_ops *ops) { dev = ops ? ops : &real_ops; }

static bool is_dir(const char *p)
{
    struct stat st;
    return p && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool snp_detect(const struct vti_attest_ctx *ctx)
{
    /* configfs-tsm also exists in other TEEs (its provider is per entry); the sev-guest
     * device node is what identifies an SNP guest */
    return access(vti_option(ctx, "snp.dev", DEF_DEV), F_OK) == 0;
}

static vt_res get_vmpl(const struct vti_attest_ctx *ctx, uint32_t *vmpl)
{
    const char *s = vti_option(ctx, "snp.vmpl", "0");
    ENSURE(s[0] >= '0' && s[0] <= '3' && s[1] == 0, VT_ERR_INVALID_ARG);
    *vmpl = (uint32_t)(s[0] - '0');
    return vti_ok();
}

/* The report must be well-formed and carry the report data we asked for. */
static vt_res check_report(const uint8_t *p, size_t n, const uint8_t rd[64])
{
    struct vt_snp_report r;
    GUARD(vti_snp_report_parse(p, n, &r));
    ENSURE(vti_ct_eq(r.report_data, rd, 64), VT_ERR_SNP_REPORT_DATA);
    return vti_ok();
}

/* ---- configfs-tsm ---------------------------------------------------------------------- */

static vt_res entry_file(const char *entry, const char *name, char *out, size_t outlen)
{
    int k = snprintf(out, outlen, "%s/%s", entry, name);
    ENSURE(k > 0 && (size_t)k < outlen, VT_ERR_INVALID_ARG);
    return vti_ok();
}

static vt_res write_attr(const char *entry, const char *name, const void *p, size_t n)
{
    char path[4096];
    GUARD(entry_file(entry, name, path, sizeof(path)));
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ENSURE(fd >= 0, VT_ERR_DEVICE);
    ssize_t w = write(fd, p, n);
    int e = close(fd);
    ENSURE(w == (ssize_t)n && e == 0, VT_ERR_DEVICE);
    return vti_ok();
}

static vt_res read_attr(const char *entry, const char *name, size_t max, struct vt_buf *out)
{
    char path[4096];
    GUARD(entry_file(entry, name, path, sizeof(path)));
    /* vti_file_read reserves 4096 bytes per read: give it room, then apply our limit */
    vt_res r = vti_file_read(path, max + 4096, out);
    if (r.err == VT_ERR_NOT_FOUND || r.err == VT_ERR_IO)
        return VT_FAIL(VT_ERR_DEVICE);
    GUARD(r);
    ENSURE(out->len <= max, VT_ERR_TOO_LARGE);
    return vti_ok();
}

static vt_res read_u64_attr(const char *entry, const char *name, uint64_t *v)
{
    struct vt_buf b = VT_BUF_INIT;
    GUARD(read_attr(entry, name, 4096, &b));
    uint64_t acc = 0;
    size_t i = 0;
    for (; i < b.len && b.p[i] >= '0' && b.p[i] <= '9' && i < 20; i++)
        acc = acc * 10 + (uint64_t)(b.p[i] - '0');
    bool ok = i > 0 && (i == b.len || b.p[i] == '\n');
    vti_buf_free_nowipe(&b);
    ENSURE(ok, VT_ERR_DEVICE);
    *v = acc;
    return vti_ok();
}

static vt_res tsm_collect(const struct vti_attest_ctx *ctx, const char *tsm, const uint8_t rd[64],
                          struct vt_buf *evidence, struct vt_buf *endorsements)
{
    static atomic_uint counter;
    char entry[4096], name[64];
    const char *fixed = vti_option(ctx, "snp.tsm_name", NULL);
    uint32_t vmpl = 0;
    GUARD(get_vmpl(ctx, &vmpl));
    if (fixed) {
        ENSURE(fixed[0] && !strchr(fixed, '/') && strcmp(fixed, "..") != 0, VT_ERR_INVALID_ARG);
        snprintf(name, sizeof(name), "%.60s", fixed);
    } else {
        snprintf(name, sizeof(name), "veritee-%ld-%u", (long)getpid(), atomic_fetch_add(&counter, 1));
    }
    int k = snprintf(entry, sizeof(entry), "%s/%s", tsm, name);
    ENSURE(k > 0 && (size_t)k < sizeof(entry), VT_ERR_INVALID_ARG);
    bool created = false;
    if (!fixed || !is_dir(entry)) {
        ENSURE(mkdir(entry, 0700) == 0, VT_ERR_DEVICE);
        created = !fixed;
    }
    vt_res r = vti_ok();
    struct vt_buf prov = VT_BUF_INIT, out = VT_BUF_INIT, aux = VT_BUF_INIT;
    uint64_t g1 = 0, g2 = 0;
    GUARD_GOTO(read_attr(entry, "provider", 4096, &prov), r, done);
    while (prov.len && (prov.p[prov.len - 1] == '\n' || prov.p[prov.len - 1] == 0))
        prov.len--;
    ENSURE_GOTO(prov.len == 9 && memcmp(prov.p, "sev_guest", 9) == 0, /* lint: public name */
                VT_ERR_SNP_TSM_PROVIDER, r, done);
    char pl[4];
    snprintf(pl, sizeof(pl), "%u\n", vmpl);
    GUARD_GOTO(write_attr(entry, "privlevel", pl, strlen(pl)), r, done);
    GUARD_GOTO(write_attr(entry, "inblob", rd, 64), r, done);
    GUARD_GOTO(read_u64_attr(entry, "generation", &g1), r, done);
    GUARD_GOTO(read_attr(entry, "outblob", 4096, &out), r, done);
    vt_res ar = read_attr(entry, "auxblob", MAX_CERTS_LEN, &aux);
    if (!vti_is_ok(ar))
        aux.len = 0; /* no certificates from the host: the verifier needs collateral */
    GUARD_GOTO(read_u64_attr(entry, "generation", &g2), r, done);
    ENSURE_GOTO(g1 == g2, VT_ERR_SNP_TSM_RACE, r, done);
    GUARD_GOTO(check_report(out.p, out.len, rd), r, done);
    GUARD_GOTO(vti_buf_append(evidence, out.p, out.len), r, done);
    if (endorsements && aux.len > 0) {
        const uint8_t *tab;
        size_t tlen;
        vti_amd_endorsements_unwrap(aux.p, aux.len, &tab, &tlen);
        GUARD_GOTO(vti_amd_endorsements_wrap(tab, tlen, endorsements), r, done);
    }
done:
    if (created)
        rmdir(entry);
    vti_buf_free_nowipe(&prov);
    vti_buf_free_nowipe(&out);
    vti_buf_free_nowipe(&aux);
    return r;
}

/* ---- /dev/sev-guest --------------------------------------------------------------------- */

/* Length of the certificate table (entries + the data they point at) in buf. */
static size_t table_extent(const uint8_t *p, size_t len)
{
    struct vt_cur c = vti_cur_init(p, len);
    size_t end = 0;
    for (size_t i = 0; i <= VT_AMD_MAX_CERTS; i++) {
        const uint8_t *g;
        uint32_t off, n;
        if (!vti_is_ok(vti_cur_view(&c, 16, &g)) || !vti_is_ok(vti_cur_u32le(&c, &off)) ||
            !vti_is_ok(vti_cur_u32le(&c, &n)))
            return 0;
        if (c.off > end)
            end = c.off;
        static const uint8_t zero[16];
        if (memcmp(g, zero, 16) == 0) /* lint: public */
            return end;
        if (off > len || n > len - off)
            return 0;
        if (off + n > end)
            end = off + n;
    }
    return 0;
}

static vt_res dev_collect(const struct vti_attest_ctx *ctx, const char *path, const uint8_t rd[64],
                          struct vt_buf *evidence, struct vt_buf *endorsements)
{
    uint32_t vmpl = 0;
    GUARD(get_vmpl(ctx, &vmpl));
    int fd = dev->open(path, O_RDWR | O_CLOEXEC);
    ENSURE(fd >= 0, errno == ENOENT ? VT_ERR_DEVICE_ABSENT : VT_ERR_DEVICE);
    vt_res r = vti_ok();
    struct vti_snp_ext_report_req req;
    struct vti_snp_report_resp *resp = calloc(1, sizeof(*resp));
    size_t certs_len = 4 * 4096;
    uint8_t *certs = NULL;
    ENSURE_GOTO(resp, VT_ERR_NOMEM, r, done);
    memset(&req, 0, sizeof(req));
    memcpy(req.data.user_data, rd, 64);
    req.data.vmpl = vmpl;
    bool ext = true;
    for (int attempt = 0; attempt < 3; attempt++) {
        struct vti_snp_guest_request_ioctl io;
        memset(&io, 0, sizeof(io));
        memset(resp, 0, sizeof(*resp));
        io.msg_version = 1;
        io.resp_data = (uint64_t)(uintptr_t)resp;
        unsigned long code;
        if (ext) {
            free(certs);
            certs = aligned_alloc(4096, certs_len);
            ENSURE_GOTO(certs, VT_ERR_NOMEM, r, done);
            memset(certs, 0, certs_len);
            req.certs_address = (uint64_t)(uintptr_t)certs;
            req.certs_len = (uint32_t)certs_len;
            io.req_data = (uint64_t)(uintptr_t)&req;
            code = VTI_SNP_GET_EXT_REPORT;
        } else {
            io.req_data = (uint64_t)(uintptr_t)&req.data;
            code = VTI_SNP_GET_REPORT;
        }
        int rc = dev->ioctl(fd, code, &io);
        if (rc == 0 && io.fw_error == 0 && io.vmm_error == 0)
            break;
        if (ext && io.vmm_error == VTI_SNP_VMM_ERR_INVALID_LEN && req.certs_len > certs_len &&
            req.certs_len <= MAX_CERTS_LEN) {
            certs_len = ((size_t)req.certs_len + 4095) & ~(size_t)4095; /* host wants more */
            continue;
        }
        if (ext && rc != 0 && (errno == ENOTTY || errno == EINVAL) && io.fw_error == 0) {
            ext = false; /* no extended report here: plain report, no certificates */
            continue;
        }
        r = VT_FAIL(io.fw_error || io.vmm_error ? VT_ERR_SNP_FW_ERROR : VT_ERR_DEVICE);
        goto done;
    }
    {
        /* MSG_REPORT_RSP: status, report_size, 24 reserved, report */
        struct vt_cur c = vti_cur_init(resp->data, sizeof(resp->data));
        uint32_t status, size;
        const uint8_t *rep;
        GUARD_GOTO(vti_cur_u32le(&c, &status), r, done);
        GUARD_GOTO(vti_cur_u32le(&c, &size), r, done);
        ENSURE_GOTO(status == 0, VT_ERR_SNP_FW_ERROR, r, done);
        ENSURE_GOTO(size == VT_SNP_REPORT_LEN, VT_ERR_SNP_REPORT_SIZE, r, done);
        GUARD_GOTO(vti_cur_skip(&c, 24), r, done);
        GUARD_GOTO(vti_cur_view(&c, size, &rep), r, done);
        GUARD_GOTO(check_report(rep, size, rd), r, done);
        GUARD_GOTO(vti_buf_append(evidence, rep, size), r, done);
        if (ext && endorsements) {
            size_t n = table_extent(certs, certs_len);
            if (n > 24)
                GUARD_GOTO(vti_amd_endorsements_wrap(certs, n, endorsements), r, done);
        }
    }
done:
    free(certs);
    free(resp);
    dev->close(fd);
    return r;
}

static vt_res snp_collect(const struct vti_attest_ctx *ctx, const uint8_t report_data[64],
                          struct vt_buf *evidence, struct vt_buf *endorsements)
{
    const char *tsm = vti_option(ctx, "snp.tsm_dir", DEF_TSM);
    const char *path = vti_option(ctx, "snp.dev", DEF_DEV);
    const char *method = vti_option(ctx, "snp.method", NULL);
    if (method && strcmp(method, "tsm") != 0 && strcmp(method, "ioctl") != 0)
        return VT_FAIL(VT_ERR_INVALID_ARG);
    bool use_tsm = method ? strcmp(method, "tsm") == 0 : is_dir(tsm);
    if (use_tsm) {
        ENSURE(is_dir(tsm), VT_ERR_DEVICE_ABSENT);
        return tsm_collect(ctx, tsm, report_data, evidence, endorsements);
    }
    return dev_collect(ctx, path, report_data, evidence, endorsements);
}

static const char *const snp_options[] = { "snp.tsm_dir", "snp.dev", "snp.vmpl", "snp.method", "snp.tsm_name", NULL };
static const struct vt_attester_ops snp_attester = {
    .hdr = { VT_INSTANCE_ABI, VT_KIND_ATTESTER, "snp", 50, 0, snp_options },
    .tee = "snp",
    .cbor_tag = SNP_TAG,
    .detect = snp_detect,
    .collect = snp_collect,
    .sim_init = NULL,
};
const struct vt_instance_hdr *const vt_inst_snp_attester = &snp_attester.hdr;
