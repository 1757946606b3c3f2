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
#define MAX_OPTIONS 16
#define MAX_ROOTS 8

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
            "  --option N=V    attester option, e.g. sim.measurement=<hex>\n"
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

static int cert_create(int argc, char **argv)
{
    static const struct option lo[] = {
        { "tee", required_argument, NULL, 't' },      { "key-out", required_argument, NULL, 'k' },
        { "cert-out", required_argument, NULL, 'c' }, { "key-type", required_argument, NULL, 'T' },
        { "crypto", required_argument, NULL, 'C' },   { "claim", required_argument, NULL, 'l' },
        { "nonce", required_argument, NULL, 'N' },    { "sim-dir", required_argument, NULL, 's' },
        { "option", required_argument, NULL, 'O' },   { "subject", required_argument, NULL, 'S' },
        { "help", no_argument, NULL, 'h' },           { NULL, 0, NULL, 0 },
    };
    const char *tee = NULL, *key_out = NULL, *cert_out = NULL, *crypto = NULL;
    struct vti_identity_params p = { 0 };
    struct vt_custom_claim claims[MAX_CLAIMS];
    struct vt_option opts[MAX_OPTIONS];
    struct vti_attest_ctx actx = { 0 };
    struct vt_buf nonce = VT_BUF_INIT;
    p.key_type = VT_KEY_P256;
    int ch;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (ch) {
        case 't':
            tee = optarg;
            break;
        case 'k':
            key_out = optarg;
            break;
        case 'c':
            cert_out = optarg;
            break;
        case 'T':
            if (!vt_tool_key_type("cert create", optarg, &p.key_type))
                return VT_EXIT_USAGE;
            break;
        case 'C':
            crypto = optarg;
            break;
        case 'l': {
            char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg || p.n_claims >= MAX_CLAIMS) {
                vt_tool_err("cert create: bad --claim (want NAME=VALUE, at most %d)", MAX_CLAIMS);
                return VT_EXIT_USAGE;
            }
            *eq = 0;
            claims[p.n_claims++] = (struct vt_custom_claim){ optarg, (const uint8_t *)(eq + 1),
                                                             strlen(eq + 1) };
            break;
        }
        case 'N':
            if (!vt_tool_nonce("cert create", optarg, &nonce))
                return VT_EXIT_USAGE;
            break;
        case 's':
            actx.sim_dir = optarg;
            break;
        case 'O':
            if (!vt_tool_add_option("cert create", optarg, opts, &actx.n_options, MAX_OPTIONS)) {
                vt_buf_free(&nonce);
                return VT_EXIT_USAGE;
            }
            break;
        case 'S':
            p.subject = optarg;
            break;
        case 'h':
            create_usage(stdout);
            return VT_EXIT_OK;
        default:
            vt_tool_err("cert create: unknown or incomplete option '%s'", argv[optind - 1]);
            create_usage(stderr);
            return VT_EXIT_USAGE;
        }
    }
    if (!tee || !key_out || !cert_out || optind != argc) {
        vt_tool_err("cert create: --tee, --key-out and --cert-out are required");
        create_usage(stderr);
        vt_buf_free(&nonce);
        return VT_EXIT_USAGE;
    }
    vt_res r = vti_registry_init(NULL);
    if (r.err)
        vt_tool_err("cert create: plug-in loading: %s", vt_strerror(r.err));
    if (vti_crypto_get(crypto, &p.crypto).err) {
        vt_tool_err("cert create: no crypto backend '%s'", crypto ? crypto : "(any)");
        vt_buf_free(&nonce);
        return VT_EXIT_USAGE;
    }
    if (strcmp(tee, "none") != 0) {
        const struct vt_instance_hdr *h;
        if (vti_instance_find(VT_KIND_ATTESTER, tee, &h).err) {
            vt_tool_err("cert create: no attester '%s' (see 'veritee instances')", tee);
            vt_buf_free(&nonce);
            return VT_EXIT_USAGE;
        }
        p.attester = (const struct vt_attester_ops *)h;
    } else if (p.n_claims || nonce.len) {
        vt_tool_err("cert create: claims need an attester (not --tee none)");
        vt_buf_free(&nonce);
        return VT_EXIT_USAGE;
    }
    actx.sim_dir = vt_tool_sim_dir(actx.sim_dir);
    actx.options = opts;
    p.attest_ctx = &actx;
    p.claims = claims;
    if (nonce.len) {
        p.nonce = nonce.p;
        p.nonce_len = nonce.len;
    }
    struct vti_identity id = { VT_BUF_INIT, VT_BUF_INIT };
    r = vti_identity_create(&p, &id);
    vt_buf_free(&nonce);
    if (r.err) {
        vt_tool_err("cert create: %s", vt_strerror(r.err));
        return r.err == VT_ERR_SIM_NO_DIR || r.err == VT_ERR_CERT_CLAIM_NAME ||
                       r.err == VT_ERR_SIM_MEASUREMENT
                   ? VT_EXIT_USAGE
                   : VT_EXIT_REJECTED;
    }
    struct vt_buf kp = VT_BUF_INIT, cp = VT_BUF_INIT;
    int rc = VT_EXIT_OK;
    if (vti_pem_encode("PRIVATE KEY", id.key_der.p, id.key_der.len, &kp).err ||
        vti_pem_encode("CERTIFICATE", id.cert_der.p, id.cert_der.len, &cp).err ||
        vt_file_write(key_out, kp.p, kp.len, 0600).err ||
        vt_file_write(cert_out, cp.p, cp.len, 0644).err) {
        vt_tool_err("cert create: cannot write %s / %s", key_out, cert_out);
        rc = VT_EXIT_REJECTED;
    } else {
        fprintf(stderr, "veritee: wrote %s (key, 0600) and %s (%zu-byte certificate%s)\n", key_out,
                cert_out, id.cert_der.len, p.attester ? " with evidence" : ", no evidence");
    }
    vt_buf_free(&kp);
    vt_buf_free_nowipe(&cp);
    vti_identity_free(&id);
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
        vt_hex_encode(p, n, h);
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
                   vt_ct_eq(h, rc->claims.hash, rc->claims.hash_len);
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
        f->rd_ok = vt_ct_eq(f->rd, expect, 64);
    }
}

static void show_text(const struct vti_ratls_cert *rc, const struct show_facts *f, const vt_report *rep)
{
    char nb[32], na[32];
    vt_time_format(rc->info.not_before, nb);
    vt_time_format(rc->info.not_after, na);
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
            vt_hex_encode(f->rd, 64, hx);
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
    vt_tool_print_report(rep, true);
}

static json_t *show_json(const struct vti_ratls_cert *rc, const struct show_facts *f, const vt_report *rep)
{
    char nb[32], na[32];
    vt_time_format(rc->info.not_before, nb);
    vt_time_format(rc->info.not_after, na);
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
            vt_hex_encode(f->rd, 64, hx);
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

static int cert_show(int argc, char **argv)
{
    static const struct option lo[] = {
        { "json", no_argument, NULL, 'j' },           { "root-ca", required_argument, NULL, 'r' },
        { "collateral", required_argument, NULL, 'c' }, { "at", required_argument, NULL, 't' },
        { "allow-null", no_argument, NULL, 'n' },     { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    bool json = false;
    const char *roots[MAX_ROOTS];
    struct vt_verify_opts o = { 0 };
    int ch;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (ch) {
        case 'j':
            json = true;
            break;
        case 'r':
            if (!vt_tool_add_root("cert show", optarg, roots, &o.n_root_ca_files, MAX_ROOTS))
                return VT_EXIT_USAGE;
            break;
        case 'c':
            o.collateral = optarg;
            break;
        case 't':
            if (!vt_tool_time("cert show", optarg, &o.at))
                return VT_EXIT_USAGE;
            break;
        case 'n':
            o.allow_null = true;
            break;
        case 'h':
            show_usage(stdout);
            return VT_EXIT_OK;
        default:
            vt_tool_err("cert show: unknown or incomplete option '%s'", argv[optind - 1]);
            show_usage(stderr);
            return VT_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        show_usage(stderr);
        return VT_EXIT_USAGE;
    }
    o.root_ca_files = roots;
    struct vt_buf in = VT_BUF_INIT, der = VT_BUF_INIT;
    if (!vt_tool_read_input("cert show", argv[optind], 4u << 20, &in))
        return VT_EXIT_USAGE;
    vt_res r;
    if (vti_pem_has(in.p, in.len, "CERTIFICATE")) {
        struct vt_pem_list pl = { 0 };
        r = vti_pem_decode(in.p, in.len, "CERTIFICATE", &pl);
        if (!r.err)
            r = vt_buf_append(&der, pl.der[0].p, pl.der[0].len);
        vti_pem_list_free(&pl);
    } else {
        r = vt_buf_append(&der, in.p, in.len);
    }
    vt_buf_free_nowipe(&in);
    const struct vt_crypto_ops *cr = NULL;
    if (!r.err)
        r = vti_registry_init(NULL);
    if (!r.err)
        r = vti_crypto_get(NULL, &cr);
    struct vti_ratls_cert rc;
    if (!r.err)
        r = vti_ratls_cert_parse(cr, der.p, der.len, &rc);
    if (r.err) {
        vt_tool_err("cert show: %s: %s", argv[optind], vt_strerror(r.err));
        vt_buf_free_nowipe(&der);
        return VT_EXIT_USAGE;
    }
    struct show_facts f;
    facts(cr, &rc, &f);
    struct vt_report *rep = NULL;
    r = vti_cert_verify(&o, der.p, der.len, &rep);
    int rc_exit = r.err ? VT_EXIT_REJECTED : VT_EXIT_OK;
    if (rep) {
        if (json) {
            json_t *j = show_json(&rc, &f, rep);
            char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
            if (s)
                printf("%s\n", s);
            free(s);
            json_decref(j);
        } else {
            show_text(&rc, &f, rep);
        }
    }
    vt_report_free(rep);
    vti_ratls_cert_free(&rc);
    vt_buf_free_nowipe(&der);
    return rc_exit;
}

int vt_cmd_cert(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "create"))
        return cert_create(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "show"))
        return cert_show(argc - 1, argv + 1);
    FILE *f = vt_tool_wants_help(argc, argv) ? stdout : stderr;
    create_usage(f);
    fprintf(f, "\n");
    show_usage(f);
    return f == stdout ? VT_EXIT_OK : VT_EXIT_USAGE;
}
