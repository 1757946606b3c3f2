/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_test.c - the sim TEE: sim_init, attester (directory, measurement option), verifier
 * (ok with the right root; every flipped byte refused with the code of its field; truncation;
 * wrong root; no root; expired anchor time) and vt_verify() on raw sim evidence.
 */
#include <stdlib.h>
#include <sys/stat.h>

#include "core/instance.h"
#include "core/report.h"
#include "evidence/sim_evidence.h"
#include "vt_test.h"

static const struct vt_attester_ops *att;
static const struct vt_verifier_ops *ver;
static char root_file[512], other_root_file[512], dir[512];

static void make_sim(const char *d, char *root_out, size_t n)
{
    struct vt_buf roots = VT_BUF_INIT;
    CHECK_OK(att->sim_init(d, &roots));
    snprintf(root_out, n, "%s/root-ca.pem", d);
    CHECK_OK(vti_file_write(root_out, roots.p, roots.len, 0644));
    vti_buf_free(&roots);
}

static int verify_with(const uint8_t *ev, size_t len, const char *root, int64_t at,
                       struct vt_report **keep)
{
    const char *roots[1] = { root };
    struct vt_verify_opts o = { .root_ca_files = roots, .n_root_ca_files = root ? 1 : 0 };
    struct vti_verify_ctx c = { .opts = &o, .at = at };
    struct vt_report *rep = vti_report_new();
    vt_res r = ver->verify(&c, ev, len, rep);
    if (keep)
        *keep = rep;
    else
        vt_report_free(rep);
    return r.err;
}

static bool in(int e, const int *set, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (set[i] == e)
            return true;
    return false;
}

static void test_roundtrip(void)
{
    uint8_t rd[64];
    for (int i = 0; i < 64; i++)
        rd[i] = (uint8_t)i;
    struct vti_attest_ctx ac = { .sim_dir = dir };
    struct vt_buf ev = VT_BUF_INIT, en = VT_BUF_INIT;
    CHECK_OK(att->collect(&ac, rd, &ev, &en));
    CHECK(en.len == 0);
    CHECK(ver->accepts(0, ev.p, ev.len) && ver->accepts(att->cbor_tag, ev.p, ev.len));
    CHECK(!ver->accepts(60000, ev.p, ev.len));

    struct vt_report *rep = NULL;
    CHECK_ERR(verify_with(ev.p, ev.len, root_file, 1800000000, &rep), VT_OK);
    CHECK(rep->insecure && !strcmp(rep->tee, "sim") && rep->has_report_data);
    CHECK(memcmp(rep->report_data, rd, 64) == 0);
    const struct vt_claim *m = vt_claims_get(&rep->claims, "measurement");
    CHECK(m && m->type == VT_CLAIM_BYTES && m->n == 48);
    const struct vt_claim *ins = vt_claims_get(&rep->claims, "insecure");
    CHECK(ins && ins->type == VT_CLAIM_BOOL && ins->b);
    CHECK(rep->nsteps >= 5);
    vt_report_free(rep);

    /* the public API on raw evidence */
    const char *roots[1] = { root_file };
    struct vt_verify_opts o = { .root_ca_files = roots, .n_root_ca_files = 1, .at = 1800000000 };
    vt_report *pr = NULL;
    CHECK_ERR(vt_verify(&o, ev.p, ev.len, &pr), VT_OK);
    CHECK(vt_report_verified(pr) && vt_report_insecure(pr) && !strcmp(vt_report_tee(pr), "sim"));
    vt_report_free(pr);
    o.n_root_ca_files = 0;
    CHECK_ERR(vt_verify(&o, ev.p, ev.len, &pr), VT_ERR_NO_ROOT);
    CHECK(pr && !vt_report_verified(pr) && vt_report_error(pr) == VT_ERR_NO_ROOT);
    vt_report_free(pr);

    /* no root / other root / missing root file / anchor time outside the validity */
    CHECK_ERR(verify_with(ev.p, ev.len, NULL, 1800000000, NULL), VT_ERR_NO_ROOT);
    CHECK_ERR(verify_with(ev.p, ev.len, other_root_file, 1800000000, NULL), VT_ERR_SIM_CHAIN);
    CHECK_ERR(verify_with(ev.p, ev.len, "/nonexistent/root.pem", 1800000000, NULL), VT_ERR_NOT_FOUND);
    CHECK_ERR(verify_with(ev.p, ev.len, root_file, 4200000000LL, NULL), VT_ERR_SIM_CHAIN);

    /* every byte flipped: refused, with the code of the field it hits */
    struct vti_sim_evidence se;
    CHECK_OK(vti_sim_evidence_parse(ev.p, ev.len, &se));
    size_t ak_end = VTI_SIM_HEADER_LEN + se.ak_cert_len;
    int bad = 0;
    for (size_t i = 0; i < ev.len; i++) {
        ev.p[i] ^= 0x01;
        int e = verify_with(ev.p, ev.len, root_file, 1800000000, NULL);
        ev.p[i] ^= 0x01;
        bool ok;
        if (i < 8)
            ok = e == VT_ERR_SIM_MAGIC;
        else if (i < 10)
            ok = e == VT_ERR_SIM_VERSION;
        else if (i < 12)
            ok = e == VT_ERR_SIM_FLAGS;
        else if (i < 16)
            ok = e == VT_ERR_SIM_RESERVED;
        else if (i < 128)
            ok = e == VT_ERR_SIM_SIGNATURE;
        else if (i < 130) {
            static const int s[] = { VT_ERR_TRUNCATED, VT_ERR_SIM_AK_CERT, VT_ERR_TRAILING_DATA,
                                     VT_ERR_SIM_SIGNATURE };
            ok = in(e, s, VT_ARRAY_LEN(s));
        } else if (i < ak_end) {
            static const int s[] = { VT_ERR_SIM_AK_CERT, VT_ERR_SIM_CHAIN };
            ok = in(e, s, VT_ARRAY_LEN(s));
        } else if (i < ak_end + 2) {
            static const int s[] = { VT_ERR_SIM_SIGNATURE, VT_ERR_TRUNCATED, VT_ERR_TRAILING_DATA };
            ok = in(e, s, VT_ARRAY_LEN(s));
        } else {
            ok = e == VT_ERR_SIM_SIGNATURE;
        }
        if (!ok) {
            bad++;
            fprintf(stderr, "flip at %zu: %s\n", i, vt_errname(e));
        }
    }
    CHECK(bad == 0);
    /* every truncation refused */
    int accepted = 0;
    for (size_t n = 0; n < ev.len; n++)
        if (verify_with(ev.p, n, root_file, 1800000000, NULL) == VT_OK)
            accepted++;
    CHECK(accepted == 0);
    CHECK_OK(vti_buf_append(&ev, "", 1));
    CHECK_ERR(verify_with(ev.p, ev.len, root_file, 1800000000, NULL), VT_ERR_TRAILING_DATA);
    vti_buf_free(&ev);
}

static void test_attester(void)
{
    uint8_t rd[64] = { 0 };
    struct vt_buf ev = VT_BUF_INIT, en = VT_BUF_INIT;
    unsetenv("VERITEE_SIM_DIR");
    struct vti_attest_ctx none = { 0 };
    CHECK_ERR(att->collect(&none, rd, &ev, &en), VT_ERR_SIM_NO_DIR);
    char empty[600];
    snprintf(empty, sizeof(empty), "%s/empty", vt_test_tmpdir());
    CHECK(mkdir(empty, 0700) == 0);
    struct vti_attest_ctx e = { .sim_dir = empty };
    CHECK_ERR(att->collect(&e, rd, &ev, &en), VT_ERR_SIM_DIR_INVALID);
    /* $VERITEE_SIM_DIR is the fallback */
    setenv("VERITEE_SIM_DIR", dir, 1);
    CHECK_OK(att->collect(&none, rd, &ev, &en));
    unsetenv("VERITEE_SIM_DIR");
    ev.len = 0;

    /* measurement option: hex, zero-padded to 48 bytes; too long or not hex refused */
    struct vt_option opt = { "sim.measurement", "aabbcc" };
    struct vti_attest_ctx mc = { .sim_dir = dir, .options = &opt, .n_options = 1 };
    CHECK_OK(att->collect(&mc, rd, &ev, &en));
    struct vti_sim_evidence se;
    CHECK_OK(vti_sim_evidence_parse(ev.p, ev.len, &se));
    uint8_t want[48] = { 0xaa, 0xbb, 0xcc };
    CHECK(memcmp(se.measurement, want, 48) == 0);
    struct vt_report *rep = NULL;
    CHECK_ERR(verify_with(ev.p, ev.len, root_file, 1800000000, &rep), VT_OK);
    const struct vt_claim *m = vt_claims_get(&rep->claims, "measurement");
    CHECK(m && m->n == 48 && memcmp(m->p, want, 48) == 0);
    vt_report_free(rep);
    char longhex[200];
    memset(longhex, 'a', 98);
    longhex[98] = 0;
    opt.value = longhex;
    ev.len = 0;
    CHECK_ERR(att->collect(&mc, rd, &ev, &en), VT_ERR_SIM_MEASUREMENT);
    opt.value = "xyz";
    CHECK_ERR(att->collect(&mc, rd, &ev, &en), VT_ERR_SIM_MEASUREMENT);
    /* DIR/measurement is used when no option is given */
    char mpath[700];
    snprintf(mpath, sizeof(mpath), "%s/measurement", dir);
    CHECK_OK(vti_file_write(mpath, "0102\n", 5, 0644));
    ev.len = 0;
    CHECK_OK(att->collect(&(struct vti_attest_ctx){ .sim_dir = dir }, rd, &ev, &en));
    CHECK_OK(vti_sim_evidence_parse(ev.p, ev.len, &se));
    CHECK(se.measurement[0] == 1 && se.measurement[1] == 2 && se.measurement[2] == 0);
    /* key files are private */
    char kpath[700];
    struct stat st;
    snprintf(kpath, sizeof(kpath), "%s/sim-ak.key", dir);
    CHECK(stat(kpath, &st) == 0 && (st.st_mode & 0777) == 0600);
    snprintf(kpath, sizeof(kpath), "%s/sim-root-ca.key", dir);
    CHECK(stat(kpath, &st) == 0 && (st.st_mode & 0777) == 0600);
    vti_buf_free(&ev);
}

int main(void)
{
    const struct vt_instance_hdr *h;
    CHECK_OK(vti_instance_find(VT_KIND_ATTESTER, "sim", &h));
    att = (const struct vt_attester_ops *)h;
    CHECK(att->hdr.flags & VT_INST_EXPLICIT);
    CHECK_OK(vti_instance_find(VT_KIND_VERIFIER, "sim", &h));
    ver = (const struct vt_verifier_ops *)h;
    /* never auto-selected */
    const struct vt_attester_ops *det;
    vt_res r = vti_attester_detect(NULL, &det);
    CHECK(r.err || strcmp(det->hdr.name, "sim") != 0);

    snprintf(dir, sizeof(dir), "%s/sim", vt_test_tmpdir());
    make_sim(dir, root_file, sizeof(root_file));
    char other[600];
    snprintf(other, sizeof(other), "%s/other", vt_test_tmpdir());
    make_sim(other, other_root_file, sizeof(other_root_file));
    test_roundtrip();
    test_attester();
    return vt_test_done();
}
