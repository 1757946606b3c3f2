/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_cert.c - `veritee cert create` (an RA-TLS key + certificate from an attester) and
 * `veritee cert show` (what an RA-TLS certificate carries, and whether it verifies).
 *
 * `cert show` reads the certificate with the RA-TLS parser, prints the X.509 fields, the
 * extensions, the evidence type, the quote/report header version and report data (read at the
 * fixed offsets of FORMATS.md, clearly labelled UNVERIFIED), the claims buffer, the pubkey-hash
 * and report-data bindings recomputed from the raw bytes, then runs the full verification
 * (vti_cert_verify) and prints its result and the verifier's claims.
 *
 * Exit status: create: 0 written, 1 failed, 2 bad usage. show: 0 the certificate verifies,
 * 1 it does not (it was still shown), 2 bad usage or unreadable/unparsable input.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cert/ratls.h"
#include "cert/ratls_parse.h"
#include "core/report.h"
#include "crypto/crypto.h"
#include "tool.h"
#include "util/codec.h"
#include "util/secmem.h"

#define MAX_CLAIMS 32

static void create_usage(FILE *f)
{
    fprintf(f,
            "usage: veritee cert create --tee NAME --key-out F --cert-out F\n"
            "                      [--key-type p256|p384|rsa3072] [--crypto NAME]\n"
            "                      [--claim NAME=VALUE]... [--nonce HEX] [--sim-dir DIR]\n"
            "                      [--option NAME=VALUE]... [--subject DN]\n\n"
            "Generates a key, collects evidence from attester NAME over the key (Interoperable\n"
            "RA-TLS: report data = SHA-256(claims) with claims {\"pubkey-hash\", \"nonce\"?, custom}),\n"
            "and writes a self-signed certificate carrying it (extension 2.23.133.5.4.9).\n"
            "--tee none writes an ordinary self-signed certificate without evidence.\n\n"
            "  --key-out F     private key, PEM PKCS#8, mode 0600\n"
            "  --cert-out F    certificate, PEM\n"
            "  --key-type T    p256 (default), p384 or rsa3072\n"
            "  --crypto NAME   crypto backend (default: highest priority, see 'veritee instances')\n"
            "  --claim N=V     custom claim (V as text bytes), repeatable\n"
            "  --nonce HEX     add a \"nonce\" claim\n"
            "  --sim-dir DIR   sim TEE directory (default: $VERITEE_SIM_DIR)\n"
            "  --option N=V    attester option (repeatable), e.g. sim.measurement=<hex> or\n"
            "                  sim.debug=1; an option no instance reads is refused\n"
            "  --subject DN    e.g. \"CN=my service,O=Example\" (default CN=Veritee RA-TLS,O=Veritee)\n");
}

static void show_usage(FILE *f)
{
    fprintf(f,
            "usage: veritee cert show FILE [--json] [--root-ca F]... [--collateral P] [--at TIME]\n"
            "                      [--allow-null]\n\n"
            "Shows an RA-TLS certificate (PEM or DER): subject, validity, key type, extensions,\n"
            "evidence type and CBOR tag, quote/report version and report data (UNVERIFIED, read\n"
            "at fixed offsets), the claims buffer, whether the pubkey-hash and the report data\n"
            "bind the evidence to the certificate key, and the result and claims of the full\n"
            "verification (which needs trust anchors / collateral to succeed).\n\n"
            "exit status: 0 verifies, 1 does not verify, 2 bad usage or unreadable input\n");
}

struct create_opts {
    struct tool_attester a;
    const char *key_out, *cert_out, *crypto;
    struct vti_identity_params p;
    struct vt_custom_claim claims[MAX_CLAIMS];
    struct vt_buf nonce;
};

static const struct vt_arg create_args[] = {
    VT_ARGS_ATTESTER(struct create_opts, a),
    VT_ARG("key-out", 0, VT_ARG_STR, struct create_opts, key_out),
    VT_ARG("cert-out", 0, VT_ARG_STR, struct create_opts, cert_out),
    VT_ARG("key-type", 0, VT_ARG_KEY_TYPE, struct create_opts, p.key_type),
    VT_ARG("crypto", 0, VT_ARG_STR, struct create_opts, crypto),
    VT_ARG_LIST("claim", VT_ARG_CLAIM, struct create_opts, claims, p.n_claims, MAX_CLAIMS),
    VT_ARG("nonce", 0, VT_ARG_NONCE, struct create_opts, nonce),
    VT_ARG("subject", 0, VT_ARG_STR, struct create_opts, p.subject),
};
static const struct vt_cmd_spec create_spec = { "cert create", create_usage, create_args,
                                                VT_ARRAY_LEN(create_args) };

/* The crypto backend and the attester (none for --tee none) into o->p; an exit status or
 * VT_TOOL_PARSED to go on. */
static int create_instances(struct create_opts *o, struct vti_attest_ctx *actx)
{
    tool_registry("cert create", NULL);
    if (vti_crypto_get(o->crypto, &o->p.crypto).err) {
        tool_err("cert create: no crypto backend '%s'", o->crypto ? o->crypto : "(any)");
        return VT_EXIT_USAGE;
    }
    if (strcmp(o->a.tee, "none") != 0) {
        if (!tool_attester("cert create", &o->a, &o->p.attester, actx))
            return VT_EXIT_USAGE;
    } else if (o->p.n_claims || o->nonce.len) {
        tool_err("cert create: claims need an attester (not --tee none)");
        return VT_EXIT_USAGE;
    } else if (!tool_check_options("cert create", o->a.opts, o->a.n_opts, NULL, 0)) {
        return VT_EXIT_USAGE;
    } else {
        *actx = (struct vti_attest_ctx){ .sim_dir = tool_sim_dir(o->a.sim_dir),
                                         .options = o->a.opts, .n_options = o->a.n_opts };
    }
    o->p.attest_ctx = actx;
    o->p.claims = o->claims;
    if (o->nonce.len) {
        o->p.nonce = o->nonce.p;
        o->p.nonce_len = o->nonce.len;
    }
    return VT_TOOL_PARSED;
}

static int create_exit(int err)
{
    return err == VT_ERR_SIM_NO_DIR || err == VT_ERR_CERT_CLAIM_NAME ||
                   err == VT_ERR_SIM_MEASUREMENT || err == VT_ERR_SIM_DEBUG
               ? VT_EXIT_USAGE
               : VT_EXIT_REJECTED;
}

/* The key (PEM PKCS#8, 0600) and the certificate (PEM). */
static int write_identity(const struct create_opts *o, const struct vti_identity *id)
{
    struct vt_buf kp = VT_BUF_INIT, cp = VT_BUF_INIT;
    int rc = VT_EXIT_OK;
    if (vti_pem_encode("PRIVATE KEY", id->key_der.p, id->key_der.len, &kp).err ||
        vti_pem_encode("CERTIFICATE", id->cert_der.p, id->cert_der.len, &cp).err ||
        vti_file_write(o->key_out, kp.p, kp.len, 0600).err ||
        vti_file_write(o->cert_out, cp.p, cp.len, 0644).err) {
        tool_err("cert create: cannot write %s / %s", o->key_out, o->cert_out);
        rc = VT_EXIT_REJECTED;
    } else {
        fprintf(stderr, "veritee: wrote %s (key, 0600) and %s (%zu-byte certificate%s)\n",
                o->key_out, o->cert_out, id->cert_der.len,
                o->p.attester ? " with evidence" : ", no evidence");
    }
    vti_buf_free(&kp);
    vti_buf_free_nowipe(&cp);
    return rc;
}

/* Everything after parsing: instances, identity, files. */
static int create_run(struct create_opts *o)
{
    struct vti_attest_ctx actx;
    int rc = create_instances(o, &actx);
    if (rc != VT_TOOL_PARSED)
        return rc;
    struct vti_identity id = { VT_BUF_INIT, VT_BUF_INIT };
    vt_res r = vti_identity_create(&o->p, &id);
    if (r.err) {
        tool_err("cert create: %s", vt_strerror(r.err));
        return create_exit(r.err);
    }
    rc = write_identity(o, &id);
    vti_identity_free(&id);
    return rc;
}

static int cert_create(int argc, char **argv)
{
    struct create_opts o = { .p.key_type = VT_KEY_P256, .nonce = VT_BUF_INIT };
    int rc = tool_parse(&create_spec, argc, argv, &o);
    if (rc == VT_TOOL_PARSED && (!o.a.tee || !o.key_out || !o.cert_out || optind != argc)) {
        tool_err("cert create: --tee, --key-out and --cert-out are required");
        create_usage(stderr);
        rc = VT_EXIT_USAGE;
    }
    if (rc == VT_TOOL_PARSED)
        rc = create_run(&o);
    vti_buf_free(&o.nonce);
    return rc;
}

/* ---- show ---------------------------------------------------------------------------- */

static const char *ext_name(const struct vt_cert_ext_info *e)
{
    static const uint8_t gramine[] = { 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF8, 0x4D, 0x8A, 0x39, 0x06 };
    if (!strcmp(e->oid, VTI_OID_DICE_EVIDENCE))
        return "RA-TLS evidence (TCG DICE conceptual message wrapper)";
    if (!strcmp(e->oid, VTI_OID_DICE_ENDORSEMENTS))
        return "RA-TLS endorsements (TCG DICE endorsement manifest)";
    if (!strcmp(e->oid, VTI_OID_SGXSDK_QUOTE))
        return "Intel SGX SDK legacy quote";
    if (e->oid_der.len == sizeof(gramine) && !memcmp(e->oid_der.p, gramine, sizeof(gramine))) /* lint: public OID */
        return "Gramine legacy quote (mis-encoded 1.2.840.113741.1337.6)";
    if (!strcmp(e->oid, "2.5.29.19"))
        return "basicConstraints";
    if (!strcmp(e->oid, "2.5.29.14"))
        return "subjectKeyIdentifier";
    if (!strcmp(e->oid, "2.5.29.35"))
        return "authorityKeyIdentifier";
    if (!strcmp(e->oid, "2.5.29.15"))
        return "keyUsage";
    return "";
}

static bool printable(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((p[i] < 0x20 || p[i] > 0x7e) && !(i == n - 1 && p[i] == 0))
            return false;
    return n > 0;
}

static char *hexdup(const uint8_t *p, size_t n)
{
    char *h = malloc(2 * n + 1);
    if (h)
        vti_hex_encode(p, n, h);
    return h;
}

struct show_facts {
    bool pk_ok;             /* pubkey-hash equals hash(SPKI) */
    bool rd_known;          /* report data could be read from the raw evidence */
    bool rd_ok;             /* ... and binds the claims (or the SPKI for Gramine legacy) */
    char kind[32];
    unsigned version;
    const uint8_t *rd;
};

static void facts(const struct vt_crypto_ops *cr, const struct vti_ratls_cert *rc, struct show_facts *f)
{
    memset(f, 0, sizeof(*f));
    uint8_t h[VT_HASH_MAX_LEN], expect[64] = { 0 };
    const uint8_t *ev = NULL;
    size_t ev_len = 0;
    uint64_t tag = 0;
    if (rc->has_evidence) {
        tag = rc->ev.tag;
        ev = rc->ev.ev;
        ev_len = rc->ev.ev_len;
        f->pk_ok = !cr->hash((enum vt_hash_alg)rc->claims.hash_alg, rc->info.spki.p, rc->info.spki.len, h).err &&
                   vti_ct_eq(h, rc->claims.hash, rc->claims.hash_len);
        if (cr->hash(VT_HASH_SHA256, rc->ev.claims, rc->ev.claims_len, expect).err)
            return;
    } else if (rc->legacy == VTI_LEGACY_GRAMINE) {
        tag = VTI_TAG_INTEL_QUOTE;
        ev = rc->legacy_quote;
        ev_len = rc->legacy_len;
        if (cr->hash(VT_HASH_SHA256, rc->info.spki.p, rc->info.spki.len, expect).err)
            return;
    } else {
        return;
    }
    if (vti_evidence_peek(tag, ev, ev_len, f->kind, sizeof(f->kind), &f->version, &f->rd) && f->rd) {
        f->rd_known = true;
        f->rd_ok = vti_ct_eq(f->rd, expect, 64);
    }
}

static void show_text(const struct vti_ratls_cert *rc, const struct show_facts *f, const vt_report *rep)
{
    char nb[32], na[32];
    vti_time_format(rc->info.not_before, nb);
    vti_time_format(rc->info.not_after, na);
    printf("subject:    %s\n", rc->info.subject);
    printf("issuer:     %s\n", rc->info.issuer);
    printf("validity:   %s .. %s\n", nb, na);
    printf("key:        %s\n", rc->info.key_desc);
    printf("signature:  %s%s, self-signature %s\n", rc->info.sig_alg,
           rc->info.sig_alg_null_params ? " (with explicit NULL parameter)" : "",
           rc->info.self_sig_ok ? "valid" : "INVALID");
    printf("extensions:\n");
    for (size_t i = 0; i < rc->info.n_exts; i++) {
        const struct vt_cert_ext_info *e = &rc->info.exts[i];
        printf("  %s%s%s%s, %zu bytes\n", e->oid, *ext_name(e) ? " " : "", ext_name(e),
               e->critical ? ", critical" : ", non-critical", e->value.len);
    }
    if (rc->has_evidence) {
        const char *tn = vti_ratls_tag_name(rc->ev.tag);
        printf("evidence:   CBOR tag %llu (%s), %zu bytes\n", (unsigned long long)rc->ev.tag,
               tn ? tn : "plug-in", rc->ev.ev_len);
    } else if (rc->legacy == VTI_LEGACY_GRAMINE) {
        printf("evidence:   Gramine legacy quote only, %zu bytes\n", rc->legacy_len);
    } else {
        printf("evidence:   none (an ordinary certificate)\n");
    }
    if (f->kind[0]) {
        printf("  %s version %u (header, UNVERIFIED)\n", f->kind, f->version);
        if (f->rd) {
            char hx[129];
            vti_hex_encode(f->rd, 64, hx);
            printf("  report data (UNVERIFIED, fixed offset): %s\n", hx);
        }
    }
    if (rc->legacy != VTI_LEGACY_NONE)
        printf("legacy quote extension: %s, %zu bytes\n",
               rc->legacy == VTI_LEGACY_GRAMINE ? "Gramine" : "Intel SGX SDK", rc->legacy_len);
    if (rc->has_endorsements)
        printf("endorsements: %zu bytes%s\n", rc->endorsements_len, rc->endorsements_len ? "" : " (empty)");
    if (rc->has_evidence) {
        printf("claims buffer (%zu bytes, %zu claims):\n", rc->ev.claims_len, rc->claims.n);
        for (size_t i = 0; i < rc->claims.n; i++) {
            const struct vti_ratls_claim *c = &rc->claims.c[i];
            const uint8_t *p = c->is_bstr ? c->p : c->raw;
            size_t n = c->is_bstr ? c->len : c->raw_len;
            char *hx = hexdup(p, n);
            if (c->name_len == 11 && !memcmp(c->name, "pubkey-hash", 11)) { /* lint: public key name */
                char *hh = hexdup(rc->claims.hash, rc->claims.hash_len);
                printf("  pubkey-hash: alg %d, %s\n", rc->claims.hash_alg, hh ? hh : "");
                free(hh);
            } else if (printable(p, n) && c->is_bstr) {
                printf("  %.*s: \"%.*s\"%s\n", (int)c->name_len, (const char *)c->name,
                       (int)(p[n - 1] == 0 ? n - 1 : n), (const char *)p, p[n - 1] == 0 ? " (NUL-terminated)" : "");
            } else {
                printf("  %.*s: %s%s\n", (int)c->name_len, (const char *)c->name, hx ? hx : "",
                       c->is_bstr ? "" : " (CBOR)");
            }
            free(hx);
        }
        printf("binding: pubkey-hash matches the certificate key: %s\n", f->pk_ok ? "yes" : "NO");
    }
    if (f->rd_known)
        printf("binding: report data %s (from the raw evidence, UNVERIFIED): %s\n",
               rc->has_evidence ? "= SHA-256(claims buffer) || 0^32" : "= SHA-256(SPKI) || 0^32",
               f->rd_ok ? "yes" : "NO");
    printf("\nverification:\n");
    tool_print_report(rep, true);
}

static json_t *show_json(const struct vti_ratls_cert *rc, const struct show_facts *f, const vt_report *rep)
{
    char nb[32], na[32];
    vti_time_format(rc->info.not_before, nb);
    vti_time_format(rc->info.not_after, na);
    json_t *o = json_object();
    json_object_set_new(o, "subject", json_string(rc->info.subject));
    json_object_set_new(o, "issuer", json_string(rc->info.issuer));
    json_object_set_new(o, "not_before", json_string(nb));
    json_object_set_new(o, "not_after", json_string(na));
    json_object_set_new(o, "key", json_string(rc->info.key_desc));
    json_object_set_new(o, "signature_algorithm", json_string(rc->info.sig_alg));
    json_object_set_new(o, "signature_algorithm_null_params", json_boolean(rc->info.sig_alg_null_params));
    json_object_set_new(o, "self_signature_valid", json_boolean(rc->info.self_sig_ok));
    json_t *ea = json_array();
    for (size_t i = 0; i < rc->info.n_exts; i++) {
        const struct vt_cert_ext_info *e = &rc->info.exts[i];
        json_t *x = json_object();
        json_object_set_new(x, "oid", json_string(e->oid));
        json_object_set_new(x, "name", json_string(ext_name(e)));
        json_object_set_new(x, "critical", json_boolean(e->critical));
        json_object_set_new(x, "length", json_integer((json_int_t)e->value.len));
        json_array_append_new(ea, x);
    }
    json_object_set_new(o, "extensions", ea);
    if (rc->has_evidence || rc->legacy == VTI_LEGACY_GRAMINE) {
        json_t *ev = json_object();
        uint64_t tag = rc->has_evidence ? rc->ev.tag : VTI_TAG_INTEL_QUOTE;
        const char *tn = vti_ratls_tag_name(tag);
        json_object_set_new(ev, "source", json_string(rc->has_evidence ? VTI_OID_DICE_EVIDENCE : "gramine-legacy"));
        json_object_set_new(ev, "cbor_tag", json_integer((json_int_t)tag));
        json_object_set_new(ev, "type", json_string(tn ? tn : "plug-in"));
        json_object_set_new(ev, "size", json_integer((json_int_t)(rc->has_evidence ? rc->ev.ev_len : rc->legacy_len)));
        if (f->kind[0]) {
            json_object_set_new(ev, "kind", json_string(f->kind));
            json_object_set_new(ev, "version_unverified", json_integer(f->version));
        }
        if (f->rd) {
            char hx[129];
            vti_hex_encode(f->rd, 64, hx);
            json_object_set_new(ev, "report_data_unverified", json_string(hx));
        }
        if (f->rd_known)
            json_object_set_new(ev, "report_data_binds", json_boolean(f->rd_ok));
        json_object_set_new(o, "evidence", ev);
    }
    if (rc->has_evidence) {
        json_t *cl = json_object();
        for (size_t i = 0; i < rc->claims.n; i++) {
            const struct vti_ratls_claim *c = &rc->claims.c[i];
            char name[300];
            snprintf(name, sizeof(name), "%.*s", (int)c->name_len, (const char *)c->name);
            char *hx = c->is_bstr ? hexdup(c->p, c->len) : hexdup(c->raw, c->raw_len);
            json_object_set_new(cl, name, json_string(hx ? hx : ""));
            free(hx);
        }
        json_object_set_new(o, "claims_buffer", cl);
        json_object_set_new(o, "claims_buffer_size", json_integer((json_int_t)rc->ev.claims_len));
        json_t *pk = json_object();
        char *hh = hexdup(rc->claims.hash, rc->claims.hash_len);
        json_object_set_new(pk, "alg", json_integer(rc->claims.hash_alg));
        json_object_set_new(pk, "value", json_string(hh ? hh : ""));
        json_object_set_new(pk, "matches_key", json_boolean(f->pk_ok));
        free(hh);
        json_object_set_new(o, "pubkey_hash", pk);
    }
    if (rc->legacy != VTI_LEGACY_NONE) {
        json_t *lg = json_object();
        json_object_set_new(lg, "type", json_string(rc->legacy == VTI_LEGACY_GRAMINE ? "gramine" : "intel-sgxsdk"));
        json_object_set_new(lg, "size", json_integer((json_int_t)rc->legacy_len));
        json_object_set_new(o, "legacy_quote", lg);
    }
    if (rc->has_endorsements)
        json_object_set_new(o, "endorsements_size", json_integer((json_int_t)rc->endorsements_len));
    char *rj = vt_report_to_json(rep, true);
    json_t *rv = rj ? json_loads(rj, 0, NULL) : NULL;
    free(rj);
    json_object_set_new(o, "verification", rv ? rv : json_null());
    return o;
}

struct show_opts {
    struct vt_tool_verify v;
    bool json;
};

static const struct vt_arg show_args[] = {
    VT_ARGS_VERIFY(struct show_opts, v),
    VT_ARG("json", 0, VT_ARG_FLAG, struct show_opts, json),
};
static const struct vt_cmd_spec show_spec = { "cert show", show_usage, show_args,
                                              VT_ARRAY_LEN(show_args) };

/* FILE (PEM or DER) as DER into der: VT_TOOL_PARSED, or VT_EXIT_USAGE after a message. */
static int read_cert(const char *file, struct vt_buf *der)
{
    struct vt_buf in = VT_BUF_INIT;
    if (!tool_read_input("cert show", file, 4u << 20, &in))
        return VT_EXIT_USAGE;
    vt_res r;
    if (vti_pem_has(in.p, in.len, "CERTIFICATE")) {
        struct vt_pem_list pl = { 0 };
        r = vti_pem_decode(in.p, in.len, "CERTIFICATE", &pl);
        if (!r.err)
            r = vti_buf_append(der, pl.der[0].p, pl.der[0].len);
        vti_pem_list_free(&pl);
    } else {
        r = vti_buf_append(der, in.p, in.len);
    }
    vti_buf_free_nowipe(&in);
    if (r.err)
        tool_err("cert show: %s: %s", file, vt_strerror(r.err));
    return r.err ? VT_EXIT_USAGE : VT_TOOL_PARSED;
}

static void show_print(const struct vti_ratls_cert *rc, const struct show_facts *f,
                       const vt_report *rep, bool json)
{
    if (!json) {
        show_text(rc, f, rep);
        return;
    }
    json_t *j = show_json(rc, f, rep);
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (s)
        printf("%s\n", s);
    free(s);
    json_decref(j);
}

/* Parse, verify and show the certificate in der. */
static int show_cert(const struct show_opts *o, const char *file, const struct vt_buf *der)
{
    const struct vt_crypto_ops *cr = NULL;
    vt_res r = vti_registry_init(NULL);
    if (!r.err)
        r = vti_crypto_get(NULL, &cr);
    struct vti_ratls_cert rc;
    if (!r.err)
        r = vti_ratls_cert_parse(cr, der->p, der->len, &rc);
    if (r.err) {
        tool_err("cert show: %s: %s", file, vt_strerror(r.err));
        return VT_EXIT_USAGE;
    }
    struct show_facts f;
    facts(cr, &rc, &f);
    struct vt_report *rep = NULL;
    r = vti_cert_verify(&o->v.o, der->p, der->len, &rep);
    if (rep)
        show_print(&rc, &f, rep, o->json);
    vt_report_free(rep);
    vti_ratls_cert_free(&rc);
    return r.err ? VT_EXIT_REJECTED : VT_EXIT_OK;
}

static int cert_show(int argc, char **argv)
{
    struct show_opts o = { 0 };
    int rc = tool_parse(&show_spec, argc, argv, &o);
    if (rc != VT_TOOL_PARSED)
        return rc;
    if (optind != argc - 1) {
        show_usage(stderr);
        return VT_EXIT_USAGE;
    }
    o.v.o.root_ca_files = o.v.roots;
    struct vt_buf der = VT_BUF_INIT;
    rc = read_cert(argv[optind], &der);
    if (rc == VT_TOOL_PARSED)
        rc = show_cert(&o, argv[optind], &der);
    vti_buf_free_nowipe(&der);
    return rc;
}

int cmd_cert(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "create"))
        return cert_create(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "show"))
        return cert_show(argc - 1, argv + 1);
    FILE *f = tool_wants_help(argc, argv) ? stdout : stderr;
    create_usage(f);
    fprintf(f, "\n");
    show_usage(f);
    return f == stdout ? VT_EXIT_OK : VT_EXIT_USAGE;
}
