/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kbs_request_fuzz.c - fuzz target for the KBS request handlers and body parsers (src/kbs/kbs.c,
 * ear.c, snp_serde.c, src/kbs_client/jose.c). The first input byte selects what the rest is:
 *   0: POST /kbs/v0/auth body           1: POST /kbs/v0/attest body (a live session cookie)
 *   2: a JWK (vtk_jwk_public) and JCS   3: a flattened JWE to decrypt with the fixed JWE key
 *   4: an EAR token to verify           5: a GET path under /kbs/v0/resource/ (Bearer x.y.z)
 *   6: snp primary_evidence in the guest-components (sev crate) serde shape (snp_serde.c)
 *   7: a whole attestation (flow):      "<tee>[ debug][ m=<hex>][ strict]\n<attest body>\n"
 *      then lines "c <path>" / "b <path>" / "n <path>": GET with the session cookie, with
 *      "Authorization: Bearer <the token>", or with neither, after the attestation;
 *   8: an EAR token the harness signs with the server's key over input-chosen JSON:
 *      "<header>\n<payload>\n" then resource paths (under /kbs/v0/resource/; a leading '!'
 *      asks the server without allow_sim) fetched with that token as the bearer;
 *   9: any request: "<METHOD>[*<n>] <path>\n<Authorization or empty>\n<cookie or empty>\n<body>"
 *      made n (1-9) times; the body "@BIG@" stands for one byte over VTK_MAX_BODY.
 *
 * The walls a random input cannot climb are taken down by the harness, not by the server:
 * the flow reads the nonce the server hands out (POST /auth) and puts it where the input says
 * @NONCE@; it then computes the runtime-data digest of the (substituted) body exactly as a
 * guest does and replaces @EVIDENCE@ by base64 evidence over it from the library's sim
 * attesters (sim, or sim-snp for tee "snp"; a sim PKI made in setup() and trusted through
 * root_ca / collateral; @EVIDENCEX@: the same over another digest), @RD@ by the base64
 * digest and "@SERDE@" (with its quotes) by the sim-snp report in the sev crate's serde shape
 * with its cert_chain (a JSON object). Mode 8 signs with the server's EAR key, which
 * setup() stores in the KMS from a constant PEM before vtk_new() loads it, so @KID@ (and the
 * kid in committed inputs) is fixed. Placeholders everywhere: @COOKIE@ (a challenged session),
 * @ATTESTED@ (an attested session, made in setup()) and @TOKEN@ (its token).
 * One KBS server (allow_sim) and one without allow_sim on one SQLite store in a temporary
 * directory (/dev/shm when there is one) are set up on the first call; time is fixed, so no
 * session or token expires unless the input says so. KBS_FUZZ_VERBOSE=1 prints every request
 * the harness makes and its answer (to write seeds). Built by tests/CMakeLists.txt (links
 * vtkbs) as a corpus replay test (corpus: tests/fuzz/corpus/kbs_request_fuzz/) and, with
 * VT_FUZZ=ON, for libFuzzer.
 */
#include <ftw.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/instance.h"
#include "crypto/crypto.h"
#include "kbs/kbs.h"
#include "kbs/snp_serde.h"
#include "kbs_client/jose.h"
#include "proto/proto.h"
#include "util/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW ((int64_t)1800000000)
#define BODY_CAP ((size_t)1 << 20)

/* Test keys (P-256), constants so that committed inputs (kid, JWEs) stay valid. */
static const char ear_key_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgwyKykU0VRrI6DyBj\n"
    "2SoK7nSnAwytjAgkNYcgIDAOq2ChRANCAARHY1XuXqvzs0B7tpi1CXviFtIgjNSh\n"
    "a9Km27S3F/SqqXIUZoGFTbmCA9Pj3h5aTIiYKaEVPxG3XLRTa98yCD97\n"
    "-----END PRIVATE KEY-----\n";
static const char jwe_key_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgio++y4jN/HD2I1yZ\n"
    "o++WfdYE6IzRmvelDzmD9mXUJAuhRANCAAT+AVri7qRSBIL7PjY95ile5LTAymiv\n"
    "eT/g+AYwjIzdaCGZlFHybL/xNtztesYq7PXG8MbovY9JHLSWaDa6ZOGV\n"
    "-----END PRIVATE KEY-----\n";

static const char policy_doc[] =
    "{\"version\":1,\"rules\":[{\"name\":\"app\",\"resources\":[\"default/key/*\"],"
    "\"tee\":[\"sim\"]},{\"name\":\"snp\",\"resources\":[\"snp/key/*\"],\"tee\":[\"snp\"]}]}";

static struct vtk_server *srv, *strict; /* allow_sim; and without it (same store) */
static struct vtb_kms *kms;
static struct vtb_state st;
static EVP_PKEY *fixed_key;
static const struct vt_attester_ops *sim_att, *snp_att;
static char cookie[64], att_cookie[64], *att_token;
static char dir[64], db[128], simdir[128], root[160], snpdir[160];
static unsigned long flows; /* a peer name per flow keeps the per-address session cap out */
static bool verbose;

/* A part of the input (not NUL-terminated). */
struct span {
    const char *p;
    size_t n;
};

struct kv {
    const char *key, *val;
};

static void quiet(void *arg, const char *line)
{
    (void)arg;
    (void)line;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void teardown(void)
{
    vtk_free(srv);
    vtk_free(strict);
    vtb_state_fini(&st);
    vtb_kms_close(kms);
    EVP_PKEY_free(fixed_key);
    free(att_token);
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void handle_on(struct vtk_server *k, const char *method, const char *path, const char *ck,
                      const char *authz, const uint8_t *body, size_t n, const char *peer,
                      struct vtk_response *resp)
{
    struct vtk_request rq = { .method = method, .path = path, .cookie_session = ck,
                              .authorization = authz, .body = body, .body_len = n,
                              .peer = peer };
    memset(resp, 0, sizeof(*resp));
    resp->body = (struct vt_buf)VT_BUF_INIT;
    vtk_handle(k, &rq, NOW, resp);
    if (verbose) /* KBS_FUZZ_VERBOSE=1: each request and its answer, to write seeds */
        fprintf(stderr, "%s %s -> %d %.*s\n", method, path, resp->status,
                (int)(resp->body.len > 2000 ? 2000 : resp->body.len), (const char *)resp->body.p);
}

static void handle(const char *method, const char *path, const char *ck, const char *authz,
                   const uint8_t *body, size_t n, struct vtk_response *resp)
{
    handle_on(srv, method, path, ck, authz, body, n, "fuzz", resp);
}

/* ---- input helpers ------------------------------------------------------------------- */

/* The next line of *rest (without its '\n'); false at the end. */
static bool next_line(struct span *rest, struct span *line)
{
    if (!rest->p || !rest->n)
        return false;
    const char *e = memchr(rest->p, '\n', rest->n);
    line->p = rest->p;
    line->n = e ? (size_t)(e - rest->p) : rest->n;
    rest->p = e ? e + 1 : NULL;
    rest->n = e ? rest->n - line->n - 1 : 0;
    return true;
}

/* s with every key of kv replaced by its value (a NUL-terminated string; NULL: no memory). */
static char *subst(struct span s, const struct kv *kv, size_t nkv)
{
    struct vt_buf b = VT_BUF_INIT;
    b.max = BODY_CAP * 2;
    vt_res r = vti_ok();
    for (size_t i = 0; i < s.n && !r.err;) {
        size_t j = 0;
        while (j < nkv && (!kv[j].val || strlen(kv[j].key) > s.n - i ||
                           strncmp(s.p + i, kv[j].key, strlen(kv[j].key)) != 0))
            j++;
        if (j < nkv) {
            r = vti_buf_append(&b, kv[j].val, strlen(kv[j].val));
            i += strlen(kv[j].key);
        } else {
            r = vti_buf_u8(&b, (uint8_t)s.p[i++]);
        }
    }
    if (!r.err)
        r = vti_buf_cstr(&b);
    if (r.err) {
        vti_buf_free(&b);
        return NULL;
    }
    return (char *)vti_buf_steal(&b, NULL);
}

/* The placeholders every mode knows. */
static char *subst_common(struct span s)
{
    const struct kv kv[] = { { "@COOKIE@", cookie }, { "@ATTESTED@", att_cookie },
                             { "@TOKEN@", att_token }, { "@KID@", srv->signer.kid } };
    return subst(s, kv, VT_ARRAY_LEN(kv));
}

static char *b64(const uint8_t *p, size_t n)
{
    struct vt_buf b = VT_BUF_INIT;
    if (vti_b64_encode(p, n, false, &b).err || vti_buf_cstr(&b).err) {
        vti_buf_free(&b);
        return NULL;
    }
    return (char *)vti_buf_steal(&b, NULL);
}

/* ---- sim evidence -------------------------------------------------------------------- */

static json_t *bytes_json(const uint8_t *p, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, json_integer(p[i]));
    return a;
}

static json_int_t le(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = n; i > 0; i--)
        v = (v << 8) | p[i - 1];
    return (json_int_t)v;
}

static json_t *tcb_json(const uint8_t *p)
{
    return json_pack("{s:n, s:i, s:i, s:i, s:i}", "fmc", "bootloader", p[0], "tee", p[1], "snp",
                     p[6], "microcode", p[7]);
}

static json_t *version_json(const uint8_t *p)
{
    return json_pack("{s:i, s:i, s:i}", "major", p[2], "minor", p[1], "build", p[0]);
}

/* A Milan (version 3) sim-snp report in the sev crate's serde shape (snp_serde.c reads it). */
static json_t *serde_report(const uint8_t *r)
{
    static const struct { const char *n; size_t off, len; } arrs[] = {
        { "family_id", 0x10, 16 }, { "image_id", 0x20, 16 }, { "report_data", 0x50, 64 },
        { "measurement", 0x90, 48 }, { "host_data", 0xC0, 32 }, { "id_key_digest", 0xE0, 48 },
        { "author_key_digest", 0x110, 48 }, { "report_id", 0x140, 32 },
        { "report_id_ma", 0x160, 32 }, { "chip_id", 0x1A0, 64 },
    };
    json_t *o = json_pack(
        "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:i, s:i, s:i, s:o, s:o, s:n, "
        "s:n, s:{s:o, s:o}}",
        "version", le(r, 4), "guest_svn", le(r + 4, 4), "policy", le(r + 8, 8), "vmpl",
        le(r + 0x30, 4), "sig_algo", le(r + 0x34, 4), "plat_info", le(r + 0x40, 8), "key_info",
        le(r + 0x48, 4), "current_tcb", tcb_json(r + 0x38), "reported_tcb", tcb_json(r + 0x180),
        "committed_tcb", tcb_json(r + 0x1E0), "launch_tcb", tcb_json(r + 0x1F0), "cpuid_fam_id",
        r[0x188], "cpuid_mod_id", r[0x189], "cpuid_step", r[0x18A], "current",
        version_json(r + 0x1E8), "committed", version_json(r + 0x1EC), "launch_mit_vector",
        "current_mit_vector", "signature", "r", bytes_json(r + 0x2A0, 72), "s",
        bytes_json(r + 0x2E8, 72));
    for (size_t i = 0; o && i < VT_ARRAY_LEN(arrs); i++)
        json_object_set_new(o, arrs[i].n, bytes_json(r + arrs[i].off, arrs[i].len));
    return o;
}

/* {"cert_type": type, "data": [the first certificate of the sim-snp file name]} */
static json_t *serde_cert(const char *type, const char *name)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", snpdir, name);
    struct vt_buf f = VT_BUF_INIT;
    struct vt_pem_list l = { 0 };
    json_t *e = NULL;
    if (!vti_file_read(path, 1 << 16, &f).err) {
        if (!vti_pem_decode(f.p, f.len, "CERTIFICATE", &l).err && l.n)
            e = json_pack("{s:s, s:o}", "cert_type", type, "data",
                          bytes_json(l.der[0].p, l.der[0].len));
        else
            e = json_pack("{s:s, s:o}", "cert_type", type, "data", bytes_json(f.p, f.len));
    }
    vti_pem_list_free(&l);
    vti_buf_free(&f);
    return e;
}

/* The serde evidence object (JSON text) of a raw sim-snp report. */
static char *serde_text(const struct vt_buf *rep)
{
    if (rep->len != VTK_SNP_REPORT_LEN)
        return NULL;
    json_t *j = json_pack("{s:o, s:[o, o, o]}", "attestation_report", serde_report(rep->p),
                          "cert_chain", serde_cert("VCEK", "vcek.der"),
                          serde_cert("ASK", "ask.pem"), serde_cert("ARK", "ark.pem"));
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return s;
}

/* The tee line: "<tee>[ debug][ m=<hex>][ strict]". */
struct teespec {
    char tee[40], m[100];
    bool debug, strict;
};

static void tee_parse(struct span l, struct teespec *t)
{
    char s[256];
    snprintf(s, sizeof(s), "%.*s", (int)(l.n < 255 ? l.n : 255), l.p);
    memset(t, 0, sizeof(*t));
    char *sp = strchr(s, ' ');
    snprintf(t->tee, sizeof(t->tee), "%.*s", (int)(sp ? sp - s : (long)strlen(s)), s);
    t->debug = sp && strstr(sp, " debug");
    t->strict = sp && strstr(sp, " strict");
    const char *m = sp ? strstr(sp, " m=") : NULL;
    if (m)
        snprintf(t->m, sizeof(t->m), "%.*s", (int)strcspn(m + 3, " "), m + 3);
}

/* Evidence over digest from the sim attester of the tee line (sim-snp for "snp"). */
static bool collect(const struct teespec *t, const uint8_t digest[64], struct vt_buf *ev)
{
    struct vt_option opt[2];
    size_t no = 0;
    if (t->m[0])
        opt[no++] = (struct vt_option){ "sim.measurement", t->m };
    if (t->debug)
        opt[no++] = (struct vt_option){ "sim.debug", "1" };
    struct vti_attest_ctx ac = { .sim_dir = simdir, .options = opt, .n_options = no };
    const struct vt_attester_ops *a = !strcmp(t->tee, "snp") ? snp_att : sim_att;
    struct vt_buf en = VT_BUF_INIT;
    vt_res r = a->collect(&ac, digest, ev, &en);
    vti_buf_free(&en);
    return !r.err;
}

/* ---- mode 7: a whole attestation ------------------------------------------------------- */

/* The runtime-data digest of an attestation body as a guest computes it (zeros if it has
 * none). */
static void body_digest(const char *body, uint8_t digest[64])
{
    memset(digest, 0, 64);
    char why[160];
    json_t *j = vtp_json_parse((const uint8_t *)body, strlen(body), why, sizeof(why));
    const json_t *rd = json_object_get(j, "runtime-data");
    const json_t *add = json_object_get(json_object_get(j, "tee-evidence"),
                                        "additional_evidence");
    const char *nonce = json_string_value(json_object_get(rd, "nonce"));
    const json_t *jwk = json_object_get(rd, "tee-pubkey");
    if (nonce && jwk &&
        vtk_runtime_digest(json_is_string(add) ? json_string_value(add) : "", nonce, jwk,
                           digest).err)
        memset(digest, 0, 64);
    json_decref(j);
}

/* The attestation body: the template with the nonce, then evidence over its digest. */
static char *attest_body(const struct teespec *t, struct span tpl, const char *nonce)
{
    const struct kv k1[] = { { "@NONCE@", nonce } };
    char *b1 = subst(tpl, k1, 1);
    if (!b1)
        return NULL;
    if (!strstr(b1, "@EVIDENCE") && !strstr(b1, "@SERDE@") && !strstr(b1, "@RD@"))
        return b1;
    uint8_t digest[64];
    body_digest(b1, digest);
    struct vt_buf ev = VT_BUF_INIT, evx = VT_BUF_INIT;
    char *evs = NULL, *evxs = NULL, *rds = b64(digest, 48), *serde = NULL;
    if (collect(t, digest, &ev)) {
        evs = b64(ev.p, ev.len);
        serde = serde_text(&ev);
    }
    digest[0] ^= 1; /* @EVIDENCEX@: evidence made for another challenge or key */
    if (strstr(b1, "@EVIDENCEX@") && collect(t, digest, &evx))
        evxs = b64(evx.p, evx.len);
    const struct kv k2[] = { { "@EVIDENCE@", evs }, { "@EVIDENCEX@", evxs }, { "@RD@", rds },
                             { "\"@SERDE@\"", serde } };
    char *b2 = subst((struct span){ b1, strlen(b1) }, k2, VT_ARRAY_LEN(k2));
    vti_buf_free(&ev);
    vti_buf_free(&evx);
    free(b1);
    free(evs);
    free(evxs);
    free(rds);
    free(serde);
    return b2;
}

/* A string member of a JSON response body (a copy, or NULL). */
static char *resp_member(const struct vtk_response *resp, const char *name)
{
    json_error_t e;
    json_t *j = json_loadb((const char *)resp->body.p, resp->body.len, 0, &e);
    const char *s = json_string_value(json_object_get(j, name));
    char *c = s ? strdup(s) : NULL;
    json_decref(j);
    return c;
}

/* POST /auth for tee on k: the cookie (64 bytes) and nonce (new string, NULL on failure). */
static char *flow_auth(struct vtk_server *k, const char *tee, const char *peer, char *ck)
{
    json_t *a = json_pack("{s:s, s:s, s:s}", "version", VTK_PROTOCOL_VERSION, "tee", tee,
                          "extra-params", "");
    char *s = a ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    if (!s)
        return NULL;
    struct vtk_response resp;
    handle_on(k, "POST", "/kbs/v0/auth", NULL, NULL, (const uint8_t *)s, strlen(s), peer, &resp);
    free(s);
    const char *c = strstr(resp.set_cookie, "kbs-session-id=");
    char *nonce = resp.status == 200 && c ? resp_member(&resp, "nonce") : NULL;
    if (nonce) {
        snprintf(ck, 64, "%s", c + 15);
        ck[strcspn(ck, ";")] = 0;
    }
    vti_buf_free(&resp.body);
    return nonce;
}

/* Resource requests after an attestation: "c <path>", "b <path>" or "n <path>". */
static void flow_gets(struct vtk_server *k, struct span rest, const char *ck, const char *tok,
                      const char *peer)
{
    struct span l;
    const struct kv kv[] = { { "@", tok ? tok : "" } };
    char *authz = subst((struct span){ "Bearer @", 8 }, kv, 1);
    for (int i = 0; authz && i < 8 && next_line(&rest, &l); i++) {
        if (l.n < 2)
            continue;
        char *path = subst_common((struct span){ l.p + 2, l.n - 2 });
        struct vtk_response resp;
        if (path)
            handle_on(k, "GET", path, l.p[0] == 'c' ? ck : NULL, l.p[0] == 'b' ? authz : NULL,
                      NULL, 0, peer, &resp);
        if (path)
            vti_buf_free(&resp.body);
        free(path);
    }
    free(authz);
}

/* auth, attest (the input's body, substituted), then GETs. On success the session cookie in
 * ck_out and the token in *tok_out when asked for. */
static void flow(struct span in, char *ck_out, char **tok_out)
{
    struct span tl, tpl;
    if (!next_line(&in, &tl) || !next_line(&in, &tpl))
        return;
    struct teespec t;
    tee_parse(tl, &t);
    struct vtk_server *k = t.strict ? strict : srv;
    char peer[40], ck[64];
    snprintf(peer, sizeof(peer), "fuzz-%lu", flows++);
    char *nonce = flow_auth(k, t.tee, peer, ck);
    char *body = nonce ? attest_body(&t, tpl, nonce) : NULL;
    char *tok = NULL;
    if (body) {
        struct vtk_response resp;
        handle_on(k, "POST", "/kbs/v0/attest", ck, NULL, (const uint8_t *)body, strlen(body),
                  peer, &resp);
        if (resp.status == 200)
            tok = resp_member(&resp, "token");
        vti_buf_free(&resp.body);
        flow_gets(k, in, ck, tok, peer);
    }
    if (tok && ck_out)
        snprintf(ck_out, 64, "%s", ck);
    if (tok_out)
        *tok_out = tok;
    else
        free(tok);
    free(body);
    free(nonce);
}

/* ---- mode 8: tokens signed with the server's key --------------------------------------- */

static void signed_token(struct span in)
{
    struct span hl, pl, l;
    if (!next_line(&in, &hl) || !next_line(&in, &pl))
        return;
    char why[160], *hs = subst_common(hl);
    json_t *h = hs ? vtp_json_parse((const uint8_t *)hs, strlen(hs), why, sizeof(why)) : NULL;
    json_t *p = vtp_json_parse((const uint8_t *)pl.p, pl.n, why, sizeof(why));
    struct vt_buf tok = VT_BUF_INIT;
    if (json_is_object(h) && p && !vtk_jws_sign(srv->signer.key, h, p, &tok).err &&
        !vti_buf_cstr(&tok).err) {
        json_t *claims = NULL;
        if (!vtk_ear_verify(&srv->signer, (const char *)tok.p, tok.len, NOW, &claims).err)
            json_decref(claims);
        const struct kv kv[] = { { "@", (const char *)tok.p } };
        char *authz = subst((struct span){ "Bearer @", 8 }, kv, 1), path[1200];
        for (int i = 0; authz && i < 4 && next_line(&in, &l); i++) {
            size_t s = l.n && l.p[0] == '!', pn = l.n - s;
            snprintf(path, sizeof(path), "/kbs/v0/resource/%.*s", (int)(pn > 1000 ? 1000 : pn),
                     l.p + s);
            struct vtk_response resp;
            handle_on(s ? strict : srv, "GET", path, NULL, authz, NULL, 0, "fuzz", &resp);
            vti_buf_free(&resp.body);
        }
        free(authz);
    }
    vti_buf_free(&tok);
    json_decref(h);
    json_decref(p);
    free(hs);
}

/* ---- mode 9: any request ---------------------------------------------------------------- */

/* The body "@BIG@": one byte over the largest attestation body. */
static uint8_t *big_body(struct span *in)
{
    if (in->n != 5 || strncmp(in->p, "@BIG@", 5) != 0)
        return NULL;
    uint8_t *b = malloc(VTK_MAX_BODY + 1);
    if (b) {
        memset(b, ' ', VTK_MAX_BODY + 1);
        *in = (struct span){ (const char *)b, VTK_MAX_BODY + 1 };
    }
    return b;
}

/* "<METHOD>[*<1-9 times>] <path>\n<Authorization>\n<cookie>\n<body>" */
static void any_request(struct span in)
{
    struct span rl, al, cl;
    if (!next_line(&in, &rl) || !next_line(&in, &al) || !next_line(&in, &cl))
        return;
    char method[16];
    const char *sp = memchr(rl.p, ' ', rl.n);
    if (!sp || sp - rl.p >= (long)sizeof(method))
        return;
    snprintf(method, sizeof(method), "%.*s", (int)(sp - rl.p), rl.p);
    char *star = strchr(method, '*');
    int times = star && star[1] >= '1' && star[1] <= '9' ? star[1] - '0' : 1;
    if (star)
        *star = 0;
    char *path = subst_common((struct span){ sp + 1, rl.n - (size_t)(sp + 1 - rl.p) });
    char *authz = al.n ? subst_common(al) : NULL, *ck = cl.n ? subst_common(cl) : NULL;
    uint8_t *big = big_body(&in);
    for (int i = 0; path && i < times; i++) {
        struct vtk_response resp;
        handle(method, path, ck, authz, (const uint8_t *)in.p, in.p ? in.n : 0, &resp);
        vti_buf_free(&resp.body);
    }
    free(big);
    free(path);
    free(authz);
    free(ck);
}

/* ---- setup ------------------------------------------------------------------------------ */

static EVP_PKEY *key_from_pem(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    return k;
}

/* The sim PKIs (sim, sim-snp) in dir/sim and their roots in dir/sim/root-ca.pem. */
static int setup_sim(void)
{
    const struct vt_instance_hdr *h1, *h2;
    if (vti_registry_init(NULL).err || vti_instance_find(VT_KIND_ATTESTER, "sim", &h1).err ||
        vti_instance_find(VT_KIND_ATTESTER, "sim-snp", &h2).err)
        return -1;
    sim_att = (const struct vt_attester_ops *)h1;
    snp_att = (const struct vt_attester_ops *)h2;
    snprintf(simdir, sizeof(simdir), "%s/sim", dir);
    snprintf(snpdir, sizeof(snpdir), "%s/snp", simdir);
    snprintf(root, sizeof(root), "%s/root-ca.pem", simdir);
    struct vt_buf roots = VT_BUF_INIT;
    vt_res r = sim_att->sim_init(simdir, &roots);
    if (!r.err)
        r = snp_att->sim_init(simdir, &roots);
    if (!r.err)
        r = vti_file_write(root, roots.p, roots.len, 0644);
    vti_buf_free(&roots);
    return r.err ? -1 : 0;
}

/* The store: the fixed EAR key, the policy, two resources, a reference value matching the
 * sim's default measurement. */
static int setup_store(void)
{
    uint8_t mk[VTB_MASTER_KEY_LEN], m[48];
    char mhex[97];
    memset(mk, 7, sizeof(mk));
    static const char seed[] = "veritee sim workload"; /* sim.c's default measurement */
    unsigned int ml = 0;
    if (EVP_Digest(seed, strlen(seed), m, &ml, EVP_sha384(), NULL) != 1)
        return -1;
    vti_hex_encode(m, 48, mhex);
    struct vtb_refval rv = { .name = "measurement", .value = mhex, .source = "fuzz" };
    int64_t id;
    snprintf(db, sizeof(db), "%s/kbs.db", dir);
    if (vtb_kms_open(&vtb_store_sqlite, db, mk, &kms).err || vtb_state_init(&st, kms).err)
        return -1;
    st.sink = quiet;
    return vtb_kms_put_internal(kms, VTK_SIGNING_KEY_NAME, VTK_SIGNING_KEY_KIND,
                                (const uint8_t *)ear_key_pem, strlen(ear_key_pem), NOW).err ||
                   vtb_kms_policy_set(kms, policy_doc, NOW).err ||
                   vtb_kms_put_resource(kms, "default/key/one", (const uint8_t *)"s1", 2, NOW).err ||
                   vtb_kms_put_resource(kms, "snp/key/one", (const uint8_t *)"s2", 2, NOW).err ||
                   vtb_kms_refval_add(kms, &rv, &id).err || vtb_state_reload(&st).err
               ? -1
               : 0;
}

static const char good_attest[] =
    "sample\n{\"runtime-data\":{\"nonce\":\"@NONCE@\",\"tee-pubkey\":{\"kty\":\"EC\",\"crv\":"
    "\"P-256\",\"alg\":\"ECDH-ES+A256KW\",\"x\":\"_gFa4u6kUgSC-z42PeYpXuS0wMpor3k_4PgGMIyM3Wg\","
    "\"y\":\"IZmUUfJsv_E23O16xirs9cbwxui9j0kctJZoNrpk4ZU\"}},\"tee-evidence\":{"
    "\"primary_evidence\":{\"report_data\":\"@RD@\",\"veritee_sim_evidence\":\"@EVIDENCE@\"},"
    "\"additional_evidence\":\"\"}}\n";

static int setup(void)
{
    verbose = getenv("KBS_FUZZ_VERBOSE") != NULL;
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(dir, sizeof(dir), "%s/vt-kbs-fuzz-XXXXXX", base);
    if (!mkdtemp(dir) || setup_sim() != 0 || setup_store() != 0)
        return -1;
    struct vtk_config cfg = { .allow_sim = true, .root_ca = { root }, .n_root_ca = 1,
                              .collateral = snpdir, .session_lifetime = 1000000000,
                              .token_lifetime = 1000000000, .max_sessions_per_address = 4 };
    if (vtk_new(&cfg, &st, NOW, &srv).err)
        return -1;
    cfg.allow_sim = false;
    if (vtk_new(&cfg, &st, NOW, &strict).err || !(fixed_key = key_from_pem(jwe_key_pem)))
        return -1;
    atexit(teardown);
    char *nonce = flow_auth(srv, "sample", "fuzz-setup", cookie);
    free(nonce);
    flow((struct span){ good_attest, strlen(good_attest) }, att_cookie, &att_token);
    return cookie[0] && att_token ? 0 : -1;
}

/* ---- the target ------------------------------------------------------------------------- */

static void jwk_jcs(const uint8_t *p, size_t n)
{
    char why[160];
    json_t *j = vtp_json_parse(p, n, why, sizeof(why));
    EVP_PKEY *k = NULL;
    enum vtk_keyalg alg;
    if (j && !vtk_jwk_public(j, &k, &alg).err)
        EVP_PKEY_free(k);
    struct vt_buf out = VT_BUF_INIT;
    if (j)
        (void)vtk_jcs(j, &out).err;
    vti_buf_free(&out);
    json_decref(j);
}

static void snp_serde(const uint8_t *p, size_t n)
{
    char why[160];
    json_t *j = vtp_json_parse(p, n, why, sizeof(why));
    struct vt_buf rep = VT_BUF_INIT, tab = VT_BUF_INIT;
    if (j && vtk_snp_serde_parse(j, &rep, &tab, why, sizeof(why)) &&
        rep.len != VTK_SNP_REPORT_LEN)
        abort();
    vti_buf_free(&rep);
    vti_buf_free(&tab);
    json_decref(j);
}

static void bearer_xyz(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 40);
    if (!s)
        return;
    memcpy(s, "/kbs/v0/resource/", 17);
    memcpy(s + 17, p, n);
    s[17 + n] = 0;
    struct vtk_response resp;
    handle("GET", s, NULL, "Bearer x.y.z", NULL, 0, &resp);
    vti_buf_free(&resp.body);
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!srv && setup() != 0)
        abort();
    if (size < 1)
        return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    struct span in = { (const char *)p, n };
    struct vtk_response resp;
    switch (data[0] % 10) {
    case 0:
    case 1:
        handle("POST", data[0] % 10 ? "/kbs/v0/attest" : "/kbs/v0/auth",
               data[0] % 10 ? cookie : NULL, NULL, p, n, &resp);
        vti_buf_free(&resp.body);
        break;
    case 2:
        jwk_jcs(p, n);
        break;
    case 3: {
        struct vt_buf out = VT_BUF_INIT;
        (void)vtk_jwe_decrypt(fixed_key, p, n, &out).err;
        vti_buf_free(&out);
        break;
    }
    case 4: {
        json_t *claims = NULL;
        if (!vtk_ear_verify(&srv->signer, (const char *)p, n, NOW, &claims).err)
            json_decref(claims);
        break;
    }
    case 5:
        bearer_xyz(p, n);
        break;
    case 6:
        snp_serde(p, n);
        break;
    case 7:
        flow(in, NULL, NULL);
        break;
    case 8:
        signed_token(in);
        break;
    default:
        any_request(in);
        break;
    }
    return 0;
}
