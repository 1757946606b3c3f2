/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim.c - the "sim" attester: a software TEE for development and tests (INSECURE).
 *
 * Sim directory (created by `veritee sim init DIR`, mode 0700; see vt_sim_init below):
 *   sim-root-ca.pem / .key   the sim root CA, subject "CN=Veritee Sim Root (INSECURE),O=Veritee"
 *   sim-ak.pem / .key        the attestation key (ECDSA P-256) and its certificate by the root
 *   measurement              48 bytes as hex: the measurement reported by default
 *   root-ca.pem              written by the tool: every sim root (this one and those of the
 *                            other sim TEEs), for `--root-ca`
 * Keys are PEM PKCS#8 files with mode 0600. Certificates are valid 2000-01-01..2099-12-31 so
 * nothing here depends on the clock.
 *
 * Measurement: option "sim.measurement" (hex, at most 48 bytes, zero-padded on the right)
 * overrides DIR/measurement; without either, SHA-384("veritee sim workload") is used (also the
 * value sim init writes). Tests that need workloads with different measurements pass the option.
 *
 * The attester is VT_INST_EXPLICIT: it is used only when named ("sim"), never auto-selected.
 * The directory comes from vti_attest_ctx.sim_dir (--sim-dir) or $VERITEE_SIM_DIR.
 * Evidence layout: src/evidence/sim_evidence.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "attesters/sim_common.h"
#include "cert/ratls_parse.h"
#include "crypto/crypto.h"
#include "evidence/sim_evidence.h"
#include "util/codec.h"
#include "util/secmem.h"

#define SIM_VALID_FROM 946684800LL  /* 2000-01-01T00:00:00Z */
#define SIM_VALID_UNTIL 4102444799LL /* 2099-12-31T23:59:59Z */
#define SIM_DEFAULT_MEASUREMENT_SEED "veritee sim workload"

static vt_res default_measurement(const struct vt_crypto_ops *cr, uint8_t m[48])
{
    const char *s = SIM_DEFAULT_MEASUREMENT_SEED;
    return cr->hash(VT_HASH_SHA384, (const uint8_t *)s, strlen(s), m);
}

/* hex text (surrounding whitespace ignored), at most 48 bytes, zero-padded */
static vt_res measurement_from_hex(const char *s, size_t n, uint8_t m[48])
{
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    while (n && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    return vti_sim_measurement_hex(s, n, 48, m);
}


static vt_res sim_collect(const struct vti_attest_ctx *ctx, const uint8_t report_data[64],
                          struct vt_buf *evidence, struct vt_buf *endorsements)
{
    (void)endorsements;
    const char *dir = vti_sim_dir(ctx);
    ENSURE(dir, VT_ERR_SIM_NO_DIR);
    const struct vt_crypto_ops *cr;
    GUARD(vti_crypto_get(NULL, &cr));

    uint8_t m[48];
    const char *opt = vti_option(ctx, "sim.measurement", NULL);
    if (opt) {
        GUARD(measurement_from_hex(opt, strlen(opt), m));
    } else {
        struct vt_buf mb = VT_BUF_INIT;
        vt_res r = vti_sim_read(dir, NULL, "measurement", &mb);
        if (r.err == VT_ERR_SIM_DIR_INVALID) {
            GUARD(default_measurement(cr, m));
        } else {
            if (!r.err)
                r = measurement_from_hex((const char *)mb.p, mb.len, m);
            vti_buf_free(&mb);
            GUARD(r);
        }
    }

    vt_res r = vti_ok();
    struct vt_buf keypem = VT_BUF_INIT, key = VT_BUF_INIT, certpem = VT_BUF_INIT;
    struct vt_buf tbs = VT_BUF_INIT, sig = VT_BUF_INIT;
    struct vt_pem_list certs = { 0 };
    GUARD_GOTO(vti_sim_read(dir, NULL, "sim-ak.key", &keypem), r, done);
    GUARD_GOTO(vti_sim_read(dir, NULL, "sim-ak.pem", &certpem), r, done);
    GUARD_GOTO(cr->key_import(keypem.p, keypem.len, &key), r, done);
    r = vti_pem_decode(certpem.p, certpem.len, "CERTIFICATE", &certs);
    if (r.err) {
        r = VT_FAIL(VT_ERR_SIM_DIR_INVALID);
        goto done;
    }
    GUARD_GOTO(vti_sim_evidence_tbs(m, report_data, certs.der[0].p, certs.der[0].len, &tbs), r,
               done);
    GUARD_GOTO(cr->sign((struct vt_der){ key.p, key.len }, tbs.p, tbs.len, &sig), r, done);
    GUARD_GOTO(vti_sim_evidence_finish(&tbs, sig.p, sig.len), r, done);
    GUARD_GOTO(vti_buf_append(evidence, tbs.p, tbs.len), r, done);
done:
    vti_buf_free(&keypem);
    vti_buf_free(&key);
    vti_buf_free_nowipe(&certpem);
    vti_buf_free_nowipe(&tbs);
    vti_buf_free_nowipe(&sig);
    vti_pem_list_free(&certs);
    return r;
}

static vt_res write_pem(const char *dir, const char *name, const char *label, const struct vt_buf *der,
                        unsigned mode, struct vt_buf *also)
{
    char path[4096];
    GUARD(vti_sim_path(dir, NULL, name, path, sizeof(path)));
    struct vt_buf pem = VT_BUF_INIT;
    vt_res r = vti_pem_encode(label, der->p, der->len, &pem);
    if (!r.err)
        r = vti_file_write(path, pem.p, pem.len, mode);
    if (!r.err && also)
        r = vti_buf_append(also, pem.p, pem.len);
    vti_buf_free(&pem);
    return r;
}

/* Create the sim PKI in dir (see the file comment); append the root's PEM to roots_pem. */
static vt_res sim_init(const char *dir, struct vt_buf *roots_pem)
{
    ENSURE(dir && *dir, VT_ERR_INVALID_ARG);
    if (mkdir(dir, 0700) != 0)
        ENSURE(errno == EEXIST, VT_ERR_IO);
    const struct vt_crypto_ops *cr;
    GUARD(vti_crypto_get(NULL, &cr));
    vt_res r = vti_ok();
    struct vt_buf rk = VT_BUF_INIT, rc = VT_BUF_INIT, ak = VT_BUF_INIT, ac = VT_BUF_INIT;
    struct vt_buf aspki = VT_BUF_INIT, mh = VT_BUF_INIT;
    GUARD_GOTO(cr->keygen(VT_KEY_P256, &rk), r, done);
    struct vt_cert_params rp = {
        .subject = "CN=Veritee Sim Root (INSECURE),O=Veritee",
        .not_before = SIM_VALID_FROM,
        .not_after = SIM_VALID_UNTIL,
        .is_ca = true,
        .key = { rk.p, rk.len },
    };
    GUARD_GOTO(cr->cert_create(&rp, &rc), r, done);
    GUARD_GOTO(cr->keygen(VT_KEY_P256, &ak), r, done);
    GUARD_GOTO(cr->key_spki((struct vt_der){ ak.p, ak.len }, &aspki), r, done);
    struct vt_cert_params ap = {
        .subject = "CN=Veritee Sim Attestation Key (INSECURE),O=Veritee",
        .not_before = SIM_VALID_FROM,
        .not_after = SIM_VALID_UNTIL,
        .subject_spki = { aspki.p, aspki.len },
        .issuer_key = { rk.p, rk.len },
        .issuer_cert = { rc.p, rc.len },
    };
    GUARD_GOTO(cr->cert_create(&ap, &ac), r, done);
    GUARD_GOTO(write_pem(dir, "sim-root-ca.key", "PRIVATE KEY", &rk, 0600, NULL), r, done);
    GUARD_GOTO(write_pem(dir, "sim-ak.key", "PRIVATE KEY", &ak, 0600, NULL), r, done);
    GUARD_GOTO(write_pem(dir, "sim-ak.pem", "CERTIFICATE", &ac, 0644, NULL), r, done);
    GUARD_GOTO(write_pem(dir, "sim-root-ca.pem", "CERTIFICATE", &rc, 0644, roots_pem), r, done);

    uint8_t m[48];
    GUARD_GOTO(default_measurement(cr, m), r, done);
    GUARD_GOTO(vti_hex_append(&mh, m, sizeof(m)), r, done);
    GUARD_GOTO(vti_buf_u8(&mh, '\n'), r, done);
    char path[4096];
    GUARD_GOTO(vti_sim_path(dir, NULL, "measurement", path, sizeof(path)), r, done);
    GUARD_GOTO(vti_file_write(path, mh.p, mh.len, 0644), r, done);
done:
    vti_buf_free(&rk);
    vti_buf_free(&ak);
    vti_buf_free_nowipe(&rc);
    vti_buf_free_nowipe(&ac);
    vti_buf_free_nowipe(&aspki);
    vti_buf_free_nowipe(&mh);
    return r;
}

static const char *const sim_options[] = { "sim.measurement", NULL };
static const struct vt_attester_ops sim_attester = {
    .hdr = { VT_INSTANCE_ABI, VT_KIND_ATTESTER, "sim", 1, VT_INST_EXPLICIT, sim_options },
    .tee = "sim",
    .cbor_tag = VTI_TAG_SIM,
    .detect = NULL,
    .collect = sim_collect,
    .sim_init = sim_init,
};
const struct vt_instance_hdr *const vt_inst_sim_attester = &sim_attester.hdr;
