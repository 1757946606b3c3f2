/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kbs_snp_serde_test.c - unit tests of src/kbs/snp_serde.c on real SNP reports from
 * shared/testdata (v2 Milan, v3 Milan VLEK, v3 Genoa, v5 Milan): each report is turned into
 * the sev crate's serde JSON here (field table of FORMATS.md section 4, crate field names)
 * and must be rebuilt byte for byte (signed region and signature r/s; the rest zero), then
 * refusals: a missing, an unknown and a wrong-length field, the Turin layout in a Milan
 * report, and the certificate table built from cert_chain.
 */
#include <stdio.h>
#include <string.h>

#include "endorsements/amd_certs.h"
#include "kbs/snp_serde.h"
#include "vt_test.h"

static json_t *bytes_json(const uint8_t *p, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_integer(p[i]));
    return a;
}

static uint64_t le(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = n; i > 0; i--)
        v = (v << 8) | p[i - 1];
    return v;
}

static json_t *tcb_json(const uint8_t *p, bool turin)
{
    if (turin)
        return json_pack("{s:i, s:i, s:i, s:i, s:i}", "fmc", p[0], "bootloader", p[1], "tee",
                         p[2], "snp", p[3], "microcode", p[7]);
    return json_pack("{s:n, s:i, s:i, s:i, s:i}", "fmc", "bootloader", p[0], "tee", p[1], "snp",
                     p[6], "microcode", p[7]);
}

/* The crate's serialisation of a raw report (written independently of snp_serde.c). */
static json_t *serde_of(const uint8_t *r)
{
    uint32_t v = (uint32_t)le(r, 4);
    bool turin = v >= 3 ? r[0x188] == 0x1A : false;
    static const struct { const char *n; size_t off, len; } arrs[] = {
        { "family_id", 0x10, 16 }, { "image_id", 0x20, 16 }, { "report_data", 0x50, 64 },
        { "measurement", 0x90, 48 }, { "host_data", 0xC0, 32 }, { "id_key_digest", 0xE0, 48 },
        { "author_key_digest", 0x110, 48 }, { "report_id", 0x140, 32 },
        { "report_id_ma", 0x160, 32 }, { "chip_id", 0x1A0, 64 },
    };
    json_t *o = json_object();
    json_object_set_new(o, "version", json_integer(v));
    json_object_set_new(o, "guest_svn", json_integer((json_int_t)le(r + 4, 4)));
    json_object_set_new(o, "policy", json_integer((json_int_t)le(r + 8, 8)));
    json_object_set_new(o, "vmpl", json_integer((json_int_t)le(r + 0x30, 4)));
    json_object_set_new(o, "sig_algo", json_integer((json_int_t)le(r + 0x34, 4)));
    json_object_set_new(o, "plat_info", json_integer((json_int_t)le(r + 0x40, 8)));
    json_object_set_new(o, "key_info", json_integer((json_int_t)le(r + 0x48, 4)));
    for (size_t i = 0; i < sizeof(arrs) / sizeof(arrs[0]); i++)
        json_object_set_new(o, arrs[i].n, bytes_json(r + arrs[i].off, arrs[i].len));
    json_object_set_new(o, "current_tcb", tcb_json(r + 0x38, turin));
    json_object_set_new(o, "reported_tcb", tcb_json(r + 0x180, turin));
    json_object_set_new(o, "committed_tcb", tcb_json(r + 0x1E0, turin));
    json_object_set_new(o, "launch_tcb", tcb_json(r + 0x1F0, turin));
    json_object_set_new(o, "cpuid_fam_id", v >= 3 ? json_integer(r[0x188]) : json_null());
    json_object_set_new(o, "cpuid_mod_id", v >= 3 ? json_integer(r[0x189]) : json_null());
    json_object_set_new(o, "cpuid_step", v >= 3 ? json_integer(r[0x18A]) : json_null());
    json_object_set_new(o, "current", json_pack("{s:i, s:i, s:i}", "major", r[0x1EA], "minor",
                                                r[0x1E9], "build", r[0x1E8]));
    json_object_set_new(o, "committed", json_pack("{s:i, s:i, s:i}", "major", r[0x1EE],
                                                  "minor", r[0x1ED], "build", r[0x1EC]));
    json_object_set_new(o, "launch_mit_vector",
                        v >= 5 ? json_integer((json_int_t)le(r + 0x1F8, 8)) : json_null());
    json_object_set_new(o, "current_mit_vector",
                        v >= 5 ? json_integer((json_int_t)le(r + 0x200, 8)) : json_null());
    json_object_set_new(o, "signature", json_pack("{s:o, s:o}", "r", bytes_json(r + 0x2A0, 72),
                                                  "s", bytes_json(r + 0x2E8, 72)));
    return json_pack("{s:o, s:n}", "attestation_report", o, "cert_chain");
}

static bool parse(const json_t *ev, struct vt_buf *rep, struct vt_buf *tab)
{
    char why[160];
    vti_buf_free(rep);
    vti_buf_free(tab);
    bool ok = vtk_snp_serde_parse(ev, rep, tab, why, sizeof(why));
    if (!ok)
        printf("  (refused: %s)\n", why);
    return ok;
}

static const char *const reports[] = {
    "snp/gosev_milan_report_v2.bin", "snp/virtee_milan_report_v2.bin",
    "snp/trustee_milan_report_v2.bin", "snp/trustee_milan_vlek_report_v3.bin",
    "snp/trustee_azure_genoa_report_v3.bin", "snp/teekit_gcp_milan_report_v5.bin",
    "snp/teekit_gcp_milan_report_v5_reportdata.bin", "snp/teekit_gcp_milan_report_v5_x25519.bin",
};

int main(void)
{
    struct vt_buf rep = VT_BUF_INIT, tab = VT_BUF_INIT;
    static const uint8_t zero[VTK_SNP_REPORT_LEN];
    for (size_t i = 0; i < sizeof(reports) / sizeof(reports[0]); i++) {
        struct vt_buf raw = vt_testdata_read(reports[i]);
        CHECK(raw.len == VTK_SNP_REPORT_LEN);
        if (raw.len != VTK_SNP_REPORT_LEN)
            continue;
        json_t *ev = serde_of(raw.p);
        printf("%s (version %u)\n", reports[i], raw.p[0]);
        CHECK(parse(ev, &rep, &tab));
        CHECK(rep.len == VTK_SNP_REPORT_LEN && tab.len == 0);
        if (rep.len == VTK_SNP_REPORT_LEN) {
            CHECK(memcmp(rep.p, raw.p, 0x2A0 + 144) == 0); /* signed region, r, s */
            CHECK(memcmp(rep.p + 0x2A0 + 144, zero, VTK_SNP_REPORT_LEN - 0x2A0 - 144) == 0);
        }
        /* wrong shapes */
        json_t *m = json_deep_copy(ev);
        json_object_del(json_object_get(m, "attestation_report"), "measurement");
        CHECK(!parse(m, &rep, &tab));
        json_decref(m);
        m = json_deep_copy(ev);
        json_object_set_new(json_object_get(m, "attestation_report"), "reserved", json_null());
        CHECK(!parse(m, &rep, &tab));
        json_decref(m);
        m = json_deep_copy(ev);
        json_array_remove(json_object_get(json_object_get(m, "attestation_report"), "chip_id"), 0);
        CHECK(!parse(m, &rep, &tab));
        json_decref(m);
        m = json_deep_copy(ev);
        json_object_set_new(json_object_get(json_object_get(m, "attestation_report"),
                                            "launch_tcb"), "fmc", json_integer(1));
        CHECK(!parse(m, &rep, &tab)); /* the other TCBs keep the Milan/Genoa layout */
        json_decref(m);
        json_decref(ev);
        vti_buf_free(&raw);
    }
    /* cert_chain -> certificate table with the VCEK GUID; CRL skipped */
    struct vt_buf raw = vt_testdata_read("snp/virtee_milan_report_v2.bin");
    struct vt_buf vcek = vt_testdata_read("snp/virtee_milan_vcek.der");
    CHECK(raw.len == VTK_SNP_REPORT_LEN && vcek.len > 0);
    if (raw.len == VTK_SNP_REPORT_LEN && vcek.len > 0) {
        json_t *ev = serde_of(raw.p);
        json_object_set_new(ev, "cert_chain",
                            json_pack("[{s:s, s:o}, {s:s, s:[i]}]", "cert_type", "VCEK", "data",
                                      bytes_json(vcek.p, vcek.len), "cert_type", "CRL", "data",
                                      1));
        CHECK(parse(ev, &rep, &tab));
        struct vt_amd_blobs b = { 0 };
        CHECK_OK(vti_amd_cert_table_parse(tab.p, tab.len, &b));
        CHECK(b.n == 1 && b.der[0].len == vcek.len && memcmp(b.der[0].p, vcek.p, vcek.len) == 0);
        vti_amd_blobs_free(&b);
        json_object_set_new(ev, "cert_chain", json_pack("[{s:s, s:[]}]", "cert_type", "PEK",
                                                        "data"));
        CHECK(!parse(ev, &rep, &tab));
        json_decref(ev);
    }
    vti_buf_free(&raw);
    vti_buf_free(&vcek);
    vti_buf_free(&rep);
    vti_buf_free(&tab);
    return vt_test_done();
}
