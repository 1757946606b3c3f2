/* SPDX-License-Identifier: Apache-2.0 */
/*
 * snp_attester_test.c - the real SNP attester against fakes: a fake configfs-tsm directory
 * (provider, generation, outblob, auxblob as files) and a fake /dev/sev-guest (the ioctl is
 * replaced through vti_snp_set_dev_ops). Reports come from the sim-snp attester, so the
 * results also verify.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "attesters/snp.h"
#include "core/instance.h"
#include "core/report.h"
#include "endorsements/amd_certs.h"
#include "evidence/snp_report.h"
#include "vt_test.h"

static const struct vt_attester_ops *A, *S;
static struct vt_buf g_report, g_table;
static int g_calls, g_fw_error;
static unsigned long g_last_code;

static void put(const char *dir, const char *name, const void *p, size_t n)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n)
        exit(2);
    fclose(f);
}

static int fake_open(const char *p, int flags)
{
    (void)flags;
    if (strcmp(p, "/fake/sev-guest") != 0) {
        errno = ENOENT;
        return -1;
    }
    return 77;
}
static int fake_close(int fd) { return fd == 77 ? 0 : -1; }
static int fake_ioctl(int fd, unsigned long code, void *arg)
{
    struct vti_snp_guest_request_ioctl *io = arg;
    g_calls++;
    g_last_code = code;
    if (fd != 77 || io->msg_version != 1)
        return -1;
    struct vti_snp_report_resp *resp = (void *)(uintptr_t)io->resp_data;
    struct vti_snp_report_req *rq = (void *)(uintptr_t)io->req_data;
    if (memcmp(rq->user_data, g_report.p + 0x50, 64) != 0)
        return -1;
    if (g_fw_error) {
        io->fw_error = (uint32_t)g_fw_error;
        errno = EIO;
        return -1;
    }
    if (code == VTI_SNP_GET_EXT_REPORT) {
        struct vti_snp_ext_report_req *x = (void *)(uintptr_t)io->req_data;
        if (x->certs_len < 5 * 4096) { /* ask for more room first, like a real host might */
            x->certs_len = 5 * 4096;
            io->vmm_error = VTI_SNP_VMM_ERR_INVALID_LEN;
            errno = EIO;
            return -1;
        }
        memcpy((void *)(uintptr_t)x->certs_address, g_table.p, g_table.len);
    } else if (code != VTI_SNP_GET_REPORT) {
        errno = ENOTTY;
        return -1;
    }
    uint32_t st = 0, sz = VT_SNP_REPORT_LEN;
    memcpy(resp->data, &st, 4);
    memcpy(resp->data + 4, &sz, 4);
    memcpy(resp->data + 32, g_report.p, g_report.len);
    return 0;
}
static const struct vti_snp_dev_ops fake = { fake_open, fake_ioctl, fake_close };

int main(void)
{
    CHECK_OK(vti_registry_init(NULL));
    const struct vt_instance_hdr *h;
    CHECK_OK(vti_instance_find(VT_KIND_ATTESTER, "snp", &h));
    A = (const struct vt_attester_ops *)h;
    CHECK_OK(vti_instance_find(VT_KIND_ATTESTER, "sim-snp", &h));
    S = (const struct vt_attester_ops *)h;
    if (!A || !S)
        return vt_test_done();
    CHECK(!(A->hdr.flags & VT_INST_EXPLICIT) && A->detect && !A->sim_init);

    /* a real-format report + certificate table to serve */
    const char *tmp = vt_test_tmpdir();
    char sim[512], tsm[512], entry[600];
    snprintf(sim, sizeof(sim), "%s/sim", tmp);
    mkdir(sim, 0700);
    struct vt_buf roots = VT_BUF_INIT;
    CHECK_OK(S->sim_init(sim, &roots));
    uint8_t rd[64];
    for (int i = 0; i < 64; i++)
        rd[i] = (uint8_t)(0xa0 + i);
    struct vti_attest_ctx sctx = { .sim_dir = sim };
    struct vt_buf wrapped = VT_BUF_INIT;
    CHECK_OK(S->collect(&sctx, rd, &g_report, &wrapped));
    const uint8_t *raw;
    size_t rawlen;
    vti_amd_endorsements_unwrap(wrapped.p, wrapped.len, &raw, &rawlen);
    CHECK(rawlen + 5 == wrapped.len);
    CHECK_OK(vti_buf_append(&g_table, raw, rawlen));

    /* configfs-tsm: fixed entry in a fake directory */
    snprintf(tsm, sizeof(tsm), "%s/tsm", tmp);
    mkdir(tsm, 0700);
    snprintf(entry, sizeof(entry), "%s/e1", tsm);
    mkdir(entry, 0700);
    put(entry, "provider", "sev_guest\n", 10);
    put(entry, "generation", "3\n", 2);
    put(entry, "outblob", g_report.p, g_report.len);
    put(entry, "auxblob", g_table.p, g_table.len);
    struct vt_option o[3] = { { "snp.tsm_dir", tsm }, { "snp.tsm_name", "e1" }, { "snp.vmpl", "2" } };
    struct vti_attest_ctx actx = { .options = o, .n_options = 3 };
    struct vt_buf ev = VT_BUF_INIT, en = VT_BUF_INIT;
    CHECK_OK(A->collect(&actx, rd, &ev, &en));
    CHECK(ev.len == g_report.len && memcmp(ev.p, g_report.p, ev.len) == 0);
    CHECK(en.len == wrapped.len && memcmp(en.p, wrapped.p, en.len) == 0);
    char p[700];
    struct vt_buf in = VT_BUF_INIT, pl = VT_BUF_INIT;
    snprintf(p, sizeof(p), "%s/inblob", entry);
    CHECK_OK(vti_file_read(p, 8192, &in));
    CHECK(in.len == 64 && memcmp(in.p, rd, 64) == 0);
    snprintf(p, sizeof(p), "%s/privlevel", entry);
    CHECK_OK(vti_file_read(p, 8192, &pl));
    CHECK(pl.len == 2 && pl.p[0] == '2');
    /* other report data than requested */
    uint8_t rd2[64] = { 1 };
    ev.len = en.len = 0;
    CHECK_ERR(A->collect(&actx, rd2, &ev, &en), VT_ERR_SNP_REPORT_DATA);
    /* another provider */
    put(entry, "provider", "tdx_guest\n", 10);
    CHECK_ERR(A->collect(&actx, rd, &ev, &en), VT_ERR_SNP_TSM_PROVIDER);
    put(entry, "provider", "sev_guest\n", 10);
    /* a bad privlevel option */
    struct vt_option ob[3] = { { "snp.tsm_dir", tsm }, { "snp.tsm_name", "e1" }, { "snp.vmpl", "9" } };
    struct vti_attest_ctx bctx = { .options = ob, .n_options = 3 };
    CHECK_ERR(A->collect(&bctx, rd, &ev, &en), VT_ERR_INVALID_ARG);
    /* fresh entries: mkdir in the fake dir, no provider file -> device error, entry removed */
    struct vt_option of[1] = { { "snp.tsm_dir", tsm } };
    struct vti_attest_ctx fctx = { .options = of, .n_options = 1 };
    CHECK_ERR(A->collect(&fctx, rd, &ev, &en), VT_ERR_DEVICE);

    /* /dev/sev-guest through the fake ioctl */
    vti_snp_set_dev_ops(&fake);
    struct vt_option od[2] = { { "snp.dev", "/fake/sev-guest" }, { "snp.method", "ioctl" } };
    struct vti_attest_ctx dctx = { .options = od, .n_options = 2 };
    CHECK(A->detect(&dctx) == false); /* detect looks at the real path */
    ev.len = en.len = 0;
    g_calls = 0;
    CHECK_OK(A->collect(&dctx, rd, &ev, &en));
    CHECK(g_calls == 2 && g_last_code == VTI_SNP_GET_EXT_REPORT);
    CHECK(ev.len == g_report.len && memcmp(ev.p, g_report.p, ev.len) == 0);
    CHECK(en.len == wrapped.len && memcmp(en.p, wrapped.p, en.len) == 0);
    g_fw_error = 0x16;
    CHECK_ERR(A->collect(&dctx, rd, &ev, &en), VT_ERR_SNP_FW_ERROR);
    g_fw_error = 0;
    struct vt_option on[2] = { { "snp.dev", "/fake/none" }, { "snp.method", "ioctl" } };
    struct vti_attest_ctx nctx = { .options = on, .n_options = 2 };
    CHECK_ERR(A->collect(&nctx, rd, &ev, &en), VT_ERR_DEVICE_ABSENT);
    vti_snp_set_dev_ops(NULL);

    vti_buf_free(&ev);
    vti_buf_free(&en);
    vti_buf_free(&in);
    vti_buf_free(&pl);
    vti_buf_free(&roots);
    vti_buf_free(&g_report);
    vti_buf_free(&g_table);
    vti_buf_free(&wrapped);
    return vt_test_done();
}
