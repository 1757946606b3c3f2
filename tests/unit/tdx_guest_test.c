/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tdx_guest_test.c - the tdx attester's /dev/tdx_guest path against fakes: the ioctl is
 * replaced through vti_tdx_set_dev_ops with a fake that returns a TDREPORT carrying the
 * report data; the QGS is a thread on a Unix socket (tdx.qgs=unix:PATH) that checks the
 * GET_QUOTE_REQ (length prefix, header, sizes, the report) and answers with a sim-tdx quote
 * over the report data from the TDREPORT. Each malformed answer (QGS error code, truncation,
 * size fields off by one or huge, wrong type, wrong version, a quote over other report data)
 * is refused with its own error code. Nothing here touches a real TDX guest.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "attesters/tdx_guest.h"
#include "core/instance.h"
#include "evidence/intel_quote.h"
#include "vt_test.h"

enum mode {
    M_OK, M_ID, M_ERRCODE, M_TRUNC, M_HDR_PLUS, M_HDR_MINUS, M_Q_PLUS, M_Q_MINUS, M_Q_HUGE,
    M_ID_HUGE, M_PFX_HUGE, M_PFX_SHORT, M_TYPE_REQ, M_TYPE_OTHER, M_MAJOR, M_MINOR, M_WRONG_RD,
    M_EMPTY_QUOTE,
};

static enum mode MODE;
static int SERVER_OK;
static char SIM[600];
static const char *FAKE_DEV = "fake-tdx-guest";
static int IOCTL_FAIL, BAD_TYPE;

/* ---- fake /dev/tdx_guest ---- */
static int f_open(const char *p, int flags)
{
    (void)flags;
    return strcmp(p, FAKE_DEV) == 0 ? 1000 : -1;
}
static int f_ioctl(int fd, unsigned long req, void *arg)
{
    if (fd != 1000 || req != VTI_TDX_CMD_GET_REPORT0 || IOCTL_FAIL) {
        errno = EIO;
        return -1;
    }
    struct vti_tdx_report_req *r = arg;
    memset(r->tdreport, 0x5a, sizeof(r->tdreport));
    r->tdreport[0] = BAD_TYPE ? 0x00 : VTI_TDX_REPORT_TYPE_TDX;
    memcpy(r->tdreport + VTI_TDX_REPORT_RD_OFF, r->reportdata, 64);
    return 0;
}
static int f_close(int fd) { return fd == 1000 ? 0 : -1; }
static const struct vti_tdx_dev_ops FAKE = { f_open, f_ioctl, f_close };

/* ---- fake QGS ---- */
static void le16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t rle32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static int rd_all(int fd, uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t r = recv(fd, p, n, 0);
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}
static void wr(int fd, const uint8_t *p, size_t n) { (void)!send(fd, p, n, MSG_NOSIGNAL); }

static void *qgs(void *arg)
{
    int lfd = *(int *)arg;
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0)
        return NULL;
    uint8_t pfx[4], req[2048];
    if (rd_all(fd, pfx, 4) != 0) {
        close(fd);
        return NULL;
    }
    uint32_t L = (uint32_t)pfx[0] << 24 | (uint32_t)pfx[1] << 16 | (uint32_t)pfx[2] << 8 | pfx[3];
    if (L != 16 + 8 + 1024 || rd_all(fd, req, L) != 0) {
        close(fd);
        return NULL;
    }
    const uint8_t *report = req + 24;
    SERVER_OK = req[0] == 1 && req[1] == 0 && req[2] == 0 && req[3] == 0 &&
                rle32(req + 4) == 0 && rle32(req + 8) == L && rle32(req + 12) == 0 &&
                rle32(req + 16) == 1024 && rle32(req + 20) == 0 &&
                report[0] == VTI_TDX_REPORT_TYPE_TDX;
    /* the host's quote: sim-tdx over the REPORTDATA found in the TDREPORT */
    uint8_t rd[64];
    memcpy(rd, report + VTI_TDX_REPORT_RD_OFF, 64);
    if (MODE == M_WRONG_RD)
        rd[0] ^= 1;
    const struct vt_instance_hdr *h = NULL;
    struct vt_buf q = VT_BUF_INIT, m = VT_BUF_INIT;
    struct vti_attest_ctx sctx = { .sim_dir = SIM };
    if (!vti_is_ok(vti_instance_find(VT_KIND_ATTESTER, "sim-tdx", &h)) ||
        !vti_is_ok(((const struct vt_attester_ops *)h)->collect(&sctx, rd, &q, NULL))) {
        SERVER_OK = 0;
        close(fd);
        return NULL;
    }
    uint32_t id = MODE == M_ID ? 16 : 0;
    uint32_t qlen = MODE == M_EMPTY_QUOTE ? 0 : (uint32_t)q.len;
    uint32_t n = 24 + id + qlen;
    if (!vti_is_ok(vti_buf_zeros(&m, 4 + 24 + id)) || !vti_is_ok(vti_buf_append(&m, q.p, qlen))) {
        SERVER_OK = 0;
        close(fd);
        vti_buf_free(&q);
        vti_buf_free(&m);
        return NULL;
    }
    uint8_t *b = m.p + 4;
    le16(b, MODE == M_MAJOR ? 2 : 1);
    le16(b + 2, MODE == M_MINOR ? 7 : 1);
    le32(b + 4, MODE == M_TYPE_REQ ? 0 : MODE == M_TYPE_OTHER ? 3 : 1);
    le32(b + 8, n + (MODE == M_HDR_PLUS) - (MODE == M_HDR_MINUS));
    le32(b + 12, 0);
    le32(b + 16, MODE == M_ID_HUGE ? 0xffffffffu : id);
    le32(b + 20, MODE == M_Q_HUGE ? 0xffffffffu
                                  : qlen + (MODE == M_Q_PLUS) - (MODE == M_Q_MINUS));
    if (MODE == M_ID)
        memset(b + 24, 0xab, 16);
    if (MODE == M_ERRCODE) { /* header-only error response, as qgs_msg_gen_error_resp */
        n = 16;
        le32(b + 8, 16);
        le32(b + 12, 0x00012001u);
    }
    uint32_t pf = MODE == M_PFX_HUGE ? 0x7fffffffu : MODE == M_PFX_SHORT ? 8u : n;
    m.p[0] = (uint8_t)(pf >> 24);
    m.p[1] = (uint8_t)(pf >> 16);
    m.p[2] = (uint8_t)(pf >> 8);
    m.p[3] = (uint8_t)pf;
    wr(fd, m.p, MODE == M_TRUNC ? 4 + n - 10 : MODE == M_PFX_SHORT ? 12 : 4 + (size_t)n);
    close(fd);
    vti_buf_free(&q);
    vti_buf_free(&m);
    return NULL;
}

static char SOCK[108];

static const struct vt_attester_ops *tdx(void)
{
    const struct vt_instance_hdr *h = NULL;
    if (!vti_is_ok(vti_instance_find(VT_KIND_ATTESTER, "tdx", &h)))
        return NULL;
    return (const struct vt_attester_ops *)h;
}

/* One collect through the dev path with the fake QGS answering in mode md. */
static int run(enum mode md, const uint8_t rd[64], struct vt_buf *ev)
{
    MODE = md;
    SERVER_OK = 0;
    unlink(SOCK);
    int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un un = { .sun_family = AF_UNIX };
    memcpy(un.sun_path, SOCK, strlen(SOCK) + 1);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&un, sizeof(un)) != 0 || listen(lfd, 1) != 0)
        return -1;
    char qarg[128];
    snprintf(qarg, sizeof(qarg), "unix:%s", SOCK);
    struct vt_option o[] = { { "tdx.method", "dev" }, { "tdx.dev", FAKE_DEV },
                             { "tdx.qgs", qarg } };
    struct vti_attest_ctx ctx = { .options = o, .n_options = 3 };
    pthread_t t;
    pthread_create(&t, NULL, qgs, &lfd);
    ev->len = 0;
    int e = tdx()->collect(&ctx, rd, ev, NULL).err;
    shutdown(lfd, SHUT_RDWR); /* wakes accept() when the client never connected */
    pthread_join(t, NULL);
    close(lfd);
    return e;
}

static int with_opts(struct vt_option *o, size_t n, struct vt_buf *ev)
{
    struct vti_attest_ctx ctx = { .options = o, .n_options = n };
    uint8_t rd[64] = { 7 };
    return tdx()->collect(&ctx, rd, ev, NULL).err;
}

int main(void)
{
    CHECK_OK(vti_registry_init(NULL));
    CHECK(tdx() != NULL);
    snprintf(SIM, sizeof(SIM), "%s/sim", vt_test_tmpdir());
    mkdir(SIM, 0700);
    const struct vt_instance_hdr *h = NULL;
    CHECK_OK(vti_instance_find(VT_KIND_ATTESTER, "sim-sgx", &h));
    CHECK_OK(((const struct vt_attester_ops *)h)->sim_init(SIM, NULL));
    if ((size_t)snprintf(SOCK, sizeof(SOCK), "%s/qgs.sock", vt_test_tmpdir()) >= sizeof(SOCK))
        snprintf(SOCK, sizeof(SOCK), "/tmp/vt-tdx-qgs-%ld.sock", (long)getpid());

    vti_tdx_set_dev_ops(&FAKE);
    uint8_t rd[64];
    for (int i = 0; i < 64; i++)
        rd[i] = (uint8_t)(0xc0 ^ i);
    struct vt_buf ev = VT_BUF_INIT;

    /* success: the request was well-formed and the quote parses with our report data */
    CHECK_OK(run(M_OK, rd, &ev));
    CHECK(SERVER_OK);
    struct vt_intel_quote q;
    CHECK_OK(vt_intel_quote_parse(ev.p, ev.len, &q));
    CHECK(q.body_type == VT_INTEL_BODY_TD10 || q.body_type == VT_INTEL_BODY_TD15);
    CHECK(memcmp(q.td.report_data, rd, 64) == 0);
    /* a selected id before the quote is skipped */
    CHECK_OK(run(M_ID, rd, &ev));
    CHECK(SERVER_OK);
    CHECK_OK(vt_intel_quote_parse(ev.p, ev.len, &q));
    CHECK(memcmp(q.td.report_data, rd, 64) == 0);

    /* malformed or refusing QGS answers */
    CHECK_ERR(run(M_ERRCODE, rd, &ev), VT_ERR_INTEL_QGS_ERROR);
    CHECK_ERR(run(M_TRUNC, rd, &ev), VT_ERR_INTEL_QGS_TRUNCATED);
    CHECK_ERR(run(M_HDR_PLUS, rd, &ev), VT_ERR_INTEL_QGS_SIZE);
    CHECK_ERR(run(M_HDR_MINUS, rd, &ev), VT_ERR_INTEL_QGS_SIZE);
    CHECK_ERR(run(M_Q_PLUS, rd, &ev), VT_ERR_INTEL_QGS_SIZE);
    CHECK_ERR(run(M_Q_MINUS, rd, &ev), VT_ERR_INTEL_QGS_SIZE);
    CHECK_ERR(run(M_Q_HUGE, rd, &ev), VT_ERR_INTEL_QGS_SIZE);
    CHECK_ERR(run(M_ID_HUGE, rd, &ev), VT_ERR_INTEL_QGS_SIZE);
    CHECK_ERR(run(M_EMPTY_QUOTE, rd, &ev), VT_ERR_INTEL_QGS_SIZE);
    CHECK_ERR(run(M_PFX_HUGE, rd, &ev), VT_ERR_INTEL_QGS_TOO_LARGE);
    CHECK_ERR(run(M_PFX_SHORT, rd, &ev), VT_ERR_INTEL_QGS_SIZE);
    CHECK_ERR(run(M_TYPE_REQ, rd, &ev), VT_ERR_INTEL_QGS_TYPE);
    CHECK_ERR(run(M_TYPE_OTHER, rd, &ev), VT_ERR_INTEL_QGS_TYPE);
    CHECK_ERR(run(M_MAJOR, rd, &ev), VT_ERR_INTEL_QGS_VERSION);
    CHECK_ERR(run(M_MINOR, rd, &ev), VT_ERR_INTEL_QGS_VERSION);
    CHECK_ERR(run(M_WRONG_RD, rd, &ev), VT_ERR_INTEL_QGS_QUOTE);
    CHECK(SERVER_OK);

    /* parser alone: shorter than a header */
    static const uint8_t tiny[8] = { 1, 0, 0, 0, 1, 0, 0, 0 };
    CHECK_ERR(vti_qgs_parse_resp(tiny, sizeof(tiny), &ev), VT_ERR_INTEL_QGS_TRUNCATED);

    /* the device */
    IOCTL_FAIL = 1;
    CHECK_ERR(run(M_OK, rd, &ev), VT_ERR_INTEL_TDX_DEV);
    IOCTL_FAIL = 0;
    BAD_TYPE = 1;
    CHECK_ERR(run(M_OK, rd, &ev), VT_ERR_INTEL_TDX_REPORT);
    BAD_TYPE = 0;

    /* options */
    char qarg[128];
    snprintf(qarg, sizeof(qarg), "unix:%s", SOCK);
    unlink(SOCK);
    {
        struct vt_option o[] = { { "tdx.method", "dev" }, { "tdx.dev", FAKE_DEV },
                                 { "tdx.qgs", qarg } };
        CHECK_ERR(with_opts(o, 3, &ev), VT_ERR_INTEL_QGS_CONNECT); /* nobody listens */
        static const char *bad[] = { "tcp:127.0.0.1:4050", "vsock:2", "vsock:x:4050",
                                     "vsock:2:", "vsock:2:99999999999", "unix:", "" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            o[2].value = bad[i];
            CHECK_ERR(with_opts(o, 3, &ev), VT_ERR_INTEL_QGS_ADDRESS);
        }
    }
    {
        struct vt_option o[] = { { "tdx.method", "ioctl" } };
        CHECK_ERR(with_opts(o, 1, &ev), VT_ERR_INTEL_TDX_METHOD);
        struct vti_attest_ctx c = { .options = o, .n_options = 1 };
        CHECK(!tdx()->detect(&c));
    }
    {
        /* default method: no tsm dir -> dev; detect follows tdx.dev's existence */
        char devfile[700];
        snprintf(devfile, sizeof(devfile), "%s/tdx_guest", vt_test_tmpdir());
        FILE *f = fopen(devfile, "w");
        if (f)
            fclose(f);
        struct vt_option o[] = { { "tdx.tsm_dir", "/nonexistent/tsm" }, { "tdx.dev", devfile } };
        struct vti_attest_ctx c = { .options = o, .n_options = 2 };
        CHECK(tdx()->detect(&c));
        o[1].value = "/nonexistent/tdx_guest";
        CHECK(!tdx()->detect(&c));
        vti_tdx_set_dev_ops(NULL); /* the real open(2) on a missing device */
        CHECK_ERR(with_opts(o, 2, &ev), VT_ERR_INTEL_TDX_DEV);
    }
    vti_buf_free(&ev);
    unlink(SOCK);
    return vt_test_done();
}
