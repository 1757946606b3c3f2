/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kbs_handle_test.c - the KBS front end as a pure function: vtk_handle() on in-memory
 * requests over the broker core (SQLite store in a temporary directory, sim evidence from
 * the library's sim attester on a fresh sim PKI). Asserts the HTTP status, the problem type
 * and the error code of every refusal vtk_handle produces (routing, /auth, /attest,
 * /resource), the successes (challenge, token, JWE that decrypts to the secret, jwks,
 * healthz, metrics), and that decisions reach the audit table.
 */
#include <stdlib.h>
#include <string.h>

#include "core/instance.h"
#include "kbs_client/jose.h"
#include "kbs/kbs.h"
#include "util/codec.h"
#include "util/secmem.h"
#include "vt_test.h"
#include "vt_test_audit.h"

#define PROBLEM "https://github.com/confidential-containers/kbs/errors/"

static struct vtb_kms *kms;
static struct vtb_state st;
static struct vtk_server *srv, *strict; /* allow_sim; and without it */
static const struct vt_attester_ops *att;
static char simdir[512], root[600];
static EVP_PKEY *tee_key;
static json_t *tee_jwk;
static int64_t now;

static int unauth_lines; /* log lines about unauthenticated failures */

static void quiet(void *arg, const char *line)
{
    (void)arg;
    unauth_lines += strstr(line, "unauthenticated") != NULL;
}

struct answer {
    int status;
    char type[64], code[64], cookie[64];
    json_t *body;
    struct vt_buf raw;
};

static void answer_free(struct answer *a)
{
    json_decref(a->body);
    vti_buf_free(&a->raw);
    memset(a, 0, sizeof(*a));
}

static void call(struct vtk_server *k, const char *method, const char *path, const char *cookie,
                 const char *authz, const char *body, int64_t at, struct answer *a)
{
    struct vtk_request rq = { .method = method, .path = path, .cookie_session = cookie,
                              .authorization = authz, .body = (const uint8_t *)(body ? body : ""),
                              .body_len = body ? strlen(body) : 0, .peer = "127.0.0.1" };
    struct vtk_response resp = { .body = VT_BUF_INIT };
    vtk_handle(k, &rq, at, &resp);
    memset(a, 0, sizeof(*a));
    a->status = resp.status;
    a->raw = resp.body;
    json_error_t e;
    a->body = resp.body.len ? json_loadb((const char *)resp.body.p, resp.body.len, 0, &e) : NULL;
    const char *t = json_string_value(json_object_get(a->body, "type"));
    if (t && !strncmp(t, PROBLEM, strlen(PROBLEM)))
        snprintf(a->type, sizeof(a->type), "%s", t + strlen(PROBLEM));
    const char *c = json_string_value(json_object_get(a->body, "code"));
    snprintf(a->code, sizeof(a->code), "%s", c ? c : "");
    const char *ck = strstr(resp.set_cookie, "kbs-session-id=");
    if (ck) {
        snprintf(a->cookie, sizeof(a->cookie), "%s", ck + 15);
        a->cookie[strcspn(a->cookie, ";")] = 0;
    }
}

/* The request is refused with status, problem type and error code. */
static void refused(struct vtk_server *k, const char *method, const char *path,
                    const char *cookie, const char *authz, const char *body, int64_t at,
                    int status, const char *type, int code, const char *what)
{
    struct answer a;
    call(k, method, path, cookie, authz, body, at, &a);
    bool ok = a.status == status && !strcmp(a.type, type) && !strcmp(a.code, vt_errname(code)) &&
              json_is_string(json_object_get(a.body, "detail"));
    CHECK(ok);
    if (!ok)
        fprintf(stderr, "  %s: want %d %s %s, got %d %s %s: %.*s\n", what, status, type,
                vt_errname(code), a.status, a.type, a.code, (int)a.raw.len, (char *)a.raw.p);
    answer_free(&a);
}

/* POST /kbs/v0/auth for tee: the session cookie and nonce. */
static bool auth(struct vtk_server *k, const char *tee, char *cookie, char *nonce)
{
    char body[128];
    snprintf(body, sizeof(body), "{\"version\":\"0.4.0\",\"tee\":\"%s\",\"extra-params\":\"\"}",
             tee);
    struct answer a;
    call(k, "POST", "/kbs/v0/auth", NULL, NULL, body, now, &a);
    const char *n = json_string_value(json_object_get(a.body, "nonce"));
    bool ok = a.status == 200 && a.cookie[0] && n;
    if (ok) {
        snprintf(cookie, 64, "%s", a.cookie);
        snprintf(nonce, 64, "%s", n);
    }
    CHECK(ok);
    answer_free(&a);
    return ok;
}

static char *b64(const uint8_t *p, size_t n)
{
    struct vt_buf b = VT_BUF_INIT;
    CHECK_OK(vti_b64_encode(p, n, false, &b));
    CHECK_OK(vti_buf_cstr(&b));
    return (char *)vti_buf_steal(&b, NULL);
}

/* Sim evidence over report data rd (base64). */
static char *sim_evidence(const uint8_t rd[64])
{
    struct vti_attest_ctx ac = { .sim_dir = simdir };
    struct vt_buf ev = VT_BUF_INIT, en = VT_BUF_INIT;
    CHECK_OK(att->collect(&ac, rd, &ev, &en));
    char *s = b64(ev.p, ev.len);
    vti_buf_free(&ev);
    vti_buf_free(&en);
    return s;
}

/* How an attestation body is made (the defaults: a good "sample" attestation). */
struct attest_spec {
    const char *nonce;       /* runtime-data nonce */
    const char *evnonce;     /* the nonce the evidence binds (default: nonce) */
    const char *field;       /* evidence field: "veritee_sim_evidence" (sample) or "quote" */
    bool no_rd;              /* omit sample report_data */
    bool bad_rd;             /* sample report_data of another digest */
    const char *additional;  /* additional_evidence (default "") */
    const char *init;        /* raw init-data member JSON, or NULL */
    const char *jwk;         /* raw tee-pubkey JSON, or NULL (the test key) */
    const char *evidence;    /* raw evidence base64, or NULL (made here) */
};

static char *attest_body(const struct attest_spec *s)
{
    uint8_t rd[64];
    char *jwk = s->jwk ? strdup(s->jwk) : json_dumps(tee_jwk, JSON_COMPACT);
    json_t *jk = s->jwk ? json_loads(s->jwk, 0, NULL) : json_incref(tee_jwk);
    const char *add = s->additional ? s->additional : "";
    if (!jk || vtk_runtime_digest(add, s->evnonce ? s->evnonce : s->nonce, jk, rd).err)
        memset(rd, 0, sizeof(rd));
    json_decref(jk);
    char *ev = s->evidence ? strdup(s->evidence) : sim_evidence(rd);
    if (s->bad_rd)
        rd[0] ^= 1;
    char *rdb = b64(rd, 48);
    json_t *addv = json_string(add);
    char *addj = json_dumps(addv, JSON_ENCODE_ANY | JSON_COMPACT);
    json_decref(addv);
    char *out = NULL;
    char srd[128] = "";
    if (!s->no_rd)
        snprintf(srd, sizeof(srd), "\"report_data\":\"%s\",", rdb);
    if (asprintf(&out, "{%s%s%s\"runtime-data\":{\"nonce\":\"%s\",\"tee-pubkey\":%s},"
                 "\"tee-evidence\":{\"primary_evidence\":{%s\"%s\":\"%s\"},"
                 "\"additional_evidence\":%s}}",
                 s->init ? "\"init-data\":" : "", s->init ? s->init : "", s->init ? "," : "",
                 s->nonce, jwk, srd, s->field ? s->field : "veritee_sim_evidence", ev,
                 addj ? addj : "\"\"") < 0)
        out = NULL;
    free(jwk);
    free(ev);
    free(rdb);
    free(addj);
    return out;
}

/* A good attestation: the token (NULL on failure); the session cookie in cookie. */
static char *attest_ok(struct vtk_server *k, char *cookie)
{
    char nonce[64];
    if (!auth(k, "sample", cookie, nonce))
        return NULL;
    struct attest_spec s = { .nonce = nonce };
    char *body = attest_body(&s);
    struct answer a;
    call(k, "POST", "/kbs/v0/attest", cookie, NULL, body, now, &a);
    free(body);
    const char *t = json_string_value(json_object_get(a.body, "token"));
    char *tok = a.status == 200 && t ? strdup(t) : NULL;
    CHECK(tok != NULL);
    if (!tok)
        fprintf(stderr, "  attest: %d %.*s\n", a.status, (int)a.raw.len, (char *)a.raw.p);
    answer_free(&a);
    return tok;
}

static char store_db[600]; /* the store's SQLite file */

static void setup(void)
{
    uint8_t mk[32];
    memset(mk, 5, sizeof(mk));
    now = (int64_t)time(NULL);
    att = vt_test_sim_dir("sim", simdir, sizeof(simdir), root, sizeof(root));
    if (!att)
        return; /* counted; main stops without a server */
    snprintf(store_db, sizeof(store_db), "%s/kbs.db", vt_test_tmpdir());
    CHECK_OK(vtb_kms_open(&vtb_store_sqlite, store_db, mk, &kms));
    CHECK_OK(vtb_state_init(&st, kms));
    st.sink = quiet;
    CHECK_OK(vtb_kms_policy_set(kms,
                             "{\"version\":1,\"rules\":[{\"name\":\"app\",\"resources\":"
                             "[\"default/key/*\"],\"tee\":[\"sim\"]},{\"name\":\"tdx\","
                             "\"resources\":[\"tdxonly/key/*\"],\"tee\":[\"tdx\"]}]}", now));
    CHECK_OK(vtb_kms_put_resource(kms, "default/key/one", (const uint8_t *)"top secret", 10, now));
    CHECK_OK(vtb_state_reload(&st));
    struct vtk_config cfg = { .allow_sim = true, .root_ca = { root }, .n_root_ca = 1,
                              .token_lifetime = 60, .session_lifetime = 30 };
    CHECK_OK(vtk_new(&cfg, &st, now, &srv));
    cfg.allow_sim = false;
    CHECK_OK(vtk_new(&cfg, &st, now, &strict));
    CHECK_OK(vtk_p256_generate(&tee_key));
    CHECK_OK(vtk_jwk_from_pkey(tee_key, "ECDH-ES+A256KW", &tee_jwk));
}

static void test_routing(void)
{
    refused(srv, "GET", "/kbs/v0/auth", NULL, NULL, NULL, now, 405, "MethodNotAllowed",
            VT_ERR_BROKER_UNKNOWN_OP, "GET auth");
    refused(srv, "GET", "/kbs/v0/attest", NULL, NULL, NULL, now, 405, "MethodNotAllowed",
            VT_ERR_BROKER_UNKNOWN_OP, "GET attest");
    refused(srv, "POST", "/kbs/v0/resource/default/key/one", NULL, NULL, NULL, now, 405,
            "MethodNotAllowed", VT_ERR_BROKER_UNKNOWN_OP, "POST resource");
    refused(srv, "GET", "/kbs/v0/nothing", NULL, NULL, NULL, now, 404, "PluginNotFound",
            VT_ERR_BROKER_UNKNOWN_OP, "unknown endpoint");
    refused(srv, "POST", "/healthz", NULL, NULL, NULL, now, 404, "PluginNotFound",
            VT_ERR_BROKER_UNKNOWN_OP, "POST healthz");
    struct answer a;
    call(srv, "GET", "/healthz", NULL, NULL, NULL, now, &a);
    CHECK(a.status == 200 && !strcmp(json_string_value(json_object_get(a.body, "status")), "ok"));
    answer_free(&a);
    call(srv, "GET", "/.well-known/jwks.json", NULL, NULL, NULL, now, &a);
    CHECK(a.status == 200 && json_array_size(json_object_get(a.body, "keys")) >= 1);
    answer_free(&a);
}

static void test_auth(void)
{
    static char big[70 * 1024];
    memset(big, ' ', sizeof(big) - 1);
    refused(srv, "POST", "/kbs/v0/auth", NULL, NULL, big, now, 413, "RequestTooLarge",
            VT_ERR_BROKER_REQUEST_TOO_LARGE, "auth too large");
    refused(srv, "POST", "/kbs/v0/auth", NULL, NULL, "{\"version\":", now, 400, "InvalidRequest",
            VT_ERR_KBS_BAD_JSON, "auth bad JSON");
    refused(srv, "POST", "/kbs/v0/auth", NULL, NULL, "{\"tee\":\"sample\"}", now, 400,
            "InvalidRequest", VT_ERR_KBS_BAD_JSON, "auth no version");
    refused(srv, "POST", "/kbs/v0/auth", NULL, NULL, "{\"version\":\"0.3.0\",\"tee\":\"sample\"}",
            now, 400, "ProtocolVersion", VT_ERR_KBS_VERSION_MISMATCH, "auth version");
    refused(srv, "POST", "/kbs/v0/auth", NULL, NULL, "{\"version\":\"0.4.0\",\"tee\":\"x86\"}",
            now, 400, "UnsupportedTee", VT_ERR_KBS_BAD_TEE, "auth unknown tee");
    refused(srv, "POST", "/kbs/v0/auth", NULL, NULL, "{\"version\":\"0.4.0\",\"tee\":\"cca\"}",
            now, 400, "UnsupportedTee", VT_ERR_KBS_BAD_TEE, "auth unsupported tee");
}

/* An attestation on a fresh session of tee, refused as given. */
static void attest_refused(struct vtk_server *k, const char *tee, struct attest_spec s,
                           int status, const char *type, int code, const char *what)
{
    char cookie[64], nonce[64];
    if (!auth(k, tee, cookie, nonce))
        return;
    if (!s.nonce)
        s.nonce = nonce;
    else if (!s.evnonce)
        s.evnonce = s.nonce;
    char *body = attest_body(&s);
    refused(k, "POST", "/kbs/v0/attest", cookie, NULL, body, now, status, type, code, what);
    free(body);
}

static void test_attest_session(void)
{
    refused(srv, "POST", "/kbs/v0/attest", NULL, NULL, "{}", now, 401, "MissingCookie",
            VT_ERR_KBS_NO_AUTH, "attest without cookie");
    refused(srv, "POST", "/kbs/v0/attest", "0123456789abcdef0123456789abcdef", NULL, "{}", now,
            401, "ExpiredCookie", VT_ERR_KBS_SESSION_EXPIRED, "attest unknown session");
    char cookie[64], nonce[64];
    if (!auth(srv, "sample", cookie, nonce))
        return;
    struct attest_spec s = { .nonce = nonce };
    char *body = attest_body(&s);
    refused(srv, "POST", "/kbs/v0/attest", cookie, NULL, body, now + 31, 401, "ExpiredCookie",
            VT_ERR_KBS_SESSION_EXPIRED, "attest expired session");
    struct answer a;
    call(srv, "POST", "/kbs/v0/attest", cookie, NULL, body, now, &a);
    CHECK(a.status == 200 && json_is_string(json_object_get(a.body, "token")) &&
          !strcmp(a.cookie, cookie));
    answer_free(&a);
    refused(srv, "POST", "/kbs/v0/attest", cookie, NULL, body, now, 401, "ChallengeUsed",
            VT_ERR_KBS_CHALLENGE_USED, "attest replayed");
    free(body);
    if (!auth(srv, "sample", cookie, nonce))
        return;
    char *huge = calloc(1, VTK_MAX_BODY + 2);
    if (huge)
        memset(huge, ' ', VTK_MAX_BODY + 1);
    refused(srv, "POST", "/kbs/v0/attest", cookie, NULL, huge, now, 413, "RequestTooLarge",
            VT_ERR_BROKER_REQUEST_TOO_LARGE, "attest too large");
    free(huge);
    refused(srv, "POST", "/kbs/v0/attest", cookie, NULL, "{\"runtime-data\":", now, 400,
            "InvalidRequest", VT_ERR_KBS_BAD_JSON, "attest bad JSON");
    refused(srv, "POST", "/kbs/v0/attest", cookie, NULL, "{\"runtime-data\":{}}", now, 400,
            "InvalidRequest", VT_ERR_KBS_BAD_JSON, "attest wrong shape");
}

/* An attestation whose primary_evidence is the raw JSON pe, on a fresh session of tee. */
static void raw_refused(const char *tee, const char *pe, int status, const char *type, int code,
                        const char *what)
{
    char cookie[64], nonce[64], *body = NULL, *jwk = json_dumps(tee_jwk, JSON_COMPACT);
    if (!auth(srv, tee, cookie, nonce))
        return;
    if (asprintf(&body, "{\"runtime-data\":{\"nonce\":\"%s\",\"tee-pubkey\":%s},"
                 "\"tee-evidence\":{\"primary_evidence\":%s}}", nonce, jwk, pe) < 0)
        body = NULL;
    refused(srv, "POST", "/kbs/v0/attest", cookie, NULL, body, now, status, type, code, what);
    free(body);
    free(jwk);
}

static const char even_rsa_jwk[] =
    "{\"kty\":\"RSA\",\"alg\":\"RSA-OAEP-256\",\"e\":\"AQAB\",\"n\":\""
    "w8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PD"
    "w8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PD"
    "w8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PD"
    "w8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PD"
    "w8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDAg"
    "\"}";

static void test_attest_body(void)
{
    const char *ie = "InvalidRequest", *ae = "AttestationError";
    attest_refused(srv, "sample", (struct attest_spec){ .init = "{\"format\":\"json\"}" }, 400,
                   ie, VT_ERR_KBS_BAD_JSON, "bad init-data");
    attest_refused(srv, "sample", (struct attest_spec){ .jwk = "{\"kty\":\"oct\"}" }, 400, ie,
                   VT_ERR_KBS_BAD_JWK, "bad tee-pubkey");
    /* an RSA tee-pubkey with an even modulus (2048 bits): its own code (issue 10.11) */
    attest_refused(srv, "sample", (struct attest_spec){ .jwk = even_rsa_jwk }, 400, ie,
                   VT_ERR_KBS_RSA_EVEN_MODULUS, "even RSA modulus");
    attest_refused(srv, "sample", (struct attest_spec){ .nonce = "not-the-challenge" }, 403, ae,
                   VT_ERR_KBS_NONCE_MISMATCH, "wrong nonce");
    attest_refused(srv, "sample", (struct attest_spec){ .additional = "[1]" }, 400, ie,
                   VT_ERR_KBS_BAD_JSON, "additional evidence not an object");
    attest_refused(srv, "sample",
                   (struct attest_spec){ .additional = "{\"a-device-name-longer-than-32-chars\":1}" },
                   400, ie, VT_ERR_KBS_BAD_JSON, "additional evidence device name");
    attest_refused(srv, "sample", (struct attest_spec){ .field = "quote" }, 403, ae,
                   VT_ERR_KBS_UNSIGNED_SAMPLE, "unsigned sample");
    attest_refused(srv, "sample", (struct attest_spec){ .no_rd = true }, 400, ie,
                   VT_ERR_KBS_BAD_JSON, "sample without report_data");
    attest_refused(srv, "sample", (struct attest_spec){ .evidence = "AAAAAAAA" }, 403, ae,
                   VT_ERR_KBS_EVIDENCE, "evidence fails verification");
    attest_refused(srv, "tdx", (struct attest_spec){ .field = "quote" }, 403, ae,
                   VT_ERR_KBS_TEE_MISMATCH, "sim evidence for a tdx session");
    attest_refused(srv, "tdx", (struct attest_spec){ .field = "td_quote" }, 400, ie,
                   VT_ERR_KBS_BAD_JSON, "tdx without quote");
    attest_refused(srv, "snp", (struct attest_spec){ .field = "attestation_report" }, 403, ae,
                   VT_ERR_KBS_TEE_MISMATCH, "sim evidence as an snp report");
    attest_refused(strict, "sample", (struct attest_spec){ 0 }, 403, ae,
                   VT_ERR_BROKER_SIM_REFUSED, "sim without allow-sim");
    attest_refused(srv, "sample", (struct attest_spec){ .bad_rd = true }, 403, ae,
                   VT_ERR_KBS_BINDING_MISMATCH, "sample report_data of another digest");
    attest_refused(srv, "sample", (struct attest_spec){ .evnonce = "another" }, 403, ae,
                   VT_ERR_KBS_BINDING_MISMATCH, "evidence bound to another nonce");
    raw_refused("sample", "\"x\"", 400, ie, VT_ERR_KBS_BAD_JSON, "primary_evidence not an object");
    raw_refused("snp", "{\"attestation_report\":{\"version\":2}}", 400, ie,
                VT_ERR_KBS_BAD_JSON, "malformed snp serde report");
    raw_refused("sample", "{\"veritee_sim_evidence\":\"AAAA\",\"report_data\":7}", 400, ie,
                VT_ERR_KBS_BAD_JSON, "sample report_data not base64");
    /* additional evidence is bound too: evidence made for "" presented with a device entry */
    char cookie[64], nonce[64];
    if (auth(srv, "sample", cookie, nonce)) {
        struct attest_spec s = { .nonce = nonce };
        char *body = attest_body(&s);
        char *p = body ? strstr(body, "\"additional_evidence\":\"\"") : NULL;
        char *swapped = NULL;
        if (p && asprintf(&swapped, "%.*s\"additional_evidence\":\"{\\\"gpu\\\":1}\"}}",
                          (int)(p - body), body) < 0)
            swapped = NULL;
        refused(srv, "POST", "/kbs/v0/attest", cookie, NULL, swapped, now, 403, ae,
                VT_ERR_KBS_BINDING_MISMATCH, "additional evidence swapped in");
        free(swapped);
        free(body);
    }
}

/* init-data on a hardware tee (sample: no config field to compare): the EAR carries the body's
 * digest with the body's algorithm (no key: SHA-384); another algorithm is refused. */
static void init_data_case(const char *alg, const EVP_MD *md)
{
    char cookie[64], nonce[64], init[160], body_txt[64];
    if (!auth(srv, "sample", cookie, nonce))
        return;
    snprintf(body_txt, sizeof(body_txt), alg ? "algorithm = \"%s\"\n" : "version = \"0.1.0\"\n",
             alg ? alg : "");
    json_t *b = json_string(body_txt);
    char *bj = json_dumps(b, JSON_ENCODE_ANY | JSON_COMPACT);
    snprintf(init, sizeof(init), "{\"format\":\"toml\",\"body\":%s}", bj);
    struct attest_spec sp = { .nonce = nonce, .init = init };
    char *req = attest_body(&sp);
    struct answer a;
    call(srv, "POST", "/kbs/v0/attest", cookie, NULL, req, now, &a);
    uint8_t h[64];
    unsigned int hn = 0;
    char want[129] = "", *dot1, *dot2;
    CHECK(EVP_Digest(body_txt, strlen(body_txt), h, &hn, md, NULL) == 1);
    vti_hex_encode(h, hn, want);
    const char *t = json_string_value(json_object_get(a.body, "token"));
    struct vt_buf pl = VT_BUF_INIT;
    CHECK(a.status == 200 && t);
    if (t && (dot1 = strchr(t, '.')) && (dot2 = strchr(dot1 + 1, '.')))
        CHECK_OK(vti_b64_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), true, &pl));
    CHECK(pl.len && memmem(pl.p, pl.len, want, strlen(want)) != NULL);
    vti_buf_free(&pl);
    answer_free(&a);
    free(req);
    free(bj);
    json_decref(b);
}

static void test_init_data_alg(void)
{
    init_data_case(NULL, EVP_sha384());
    init_data_case("sha256", EVP_sha256());
    init_data_case("sha384", EVP_sha384());
    init_data_case("sha512", EVP_sha512());
    attest_refused(srv, "sample",
                   (struct attest_spec){ .init = "{\"format\":\"toml\",\"body\":"
                                                 "\"algorithm = \\\"md5\\\"\"}" },
                   403, "AttestationError", VT_ERR_KBS_INIT_DATA_ALG, "init-data md5");
}

static void test_resource(void)
{
    const char *path = "/kbs/v0/resource/default/key/one";
    const char *bp = "InvalidRequestPath";
    refused(srv, "GET", "/kbs/v0/resource/default/key", NULL, NULL, NULL, now, 400, bp,
            VT_ERR_BROKER_BAD_PATH, "two segments");
    refused(srv, "GET", "/kbs/v0/resource/default/../one", NULL, NULL, NULL, now, 400, bp,
            VT_ERR_BROKER_BAD_PATH, "dot-dot");
    refused(srv, "GET", "/kbs/v0/resource/a/b/c/d", NULL, NULL, NULL, now, 400, bp,
            VT_ERR_BROKER_BAD_PATH, "four segments");
    refused(srv, "GET", "/kbs/v0/resource/a/.b/c", NULL, NULL, NULL, now, 400, bp,
            VT_ERR_BROKER_BAD_PATH, "leading dot");
    refused(srv, "GET", path, NULL, NULL, NULL, now, 401, "TokenNotFound", VT_ERR_KBS_NO_AUTH,
            "no token");
    refused(srv, "GET", path, "0123456789abcdef0123456789abcdef", NULL, NULL, now, 401,
            "ExpiredCookie", VT_ERR_KBS_SESSION_EXPIRED, "unknown session");
    char cookie[64], nonce[64];
    if (auth(srv, "sample", cookie, nonce))
        refused(srv, "GET", path, cookie, NULL, NULL, now, 401, "UnAuthenticated",
                VT_ERR_KBS_NOT_ATTESTED, "session not attested");
    refused(srv, "GET", path, NULL, "Bearer not.a.token", NULL, now, 401, "TokenVerifierError",
            VT_ERR_KBS_TOKEN_INVALID, "bad bearer token");
    char *tok = attest_ok(srv, cookie);
    if (!tok)
        return;
    char bearer[4096];
    snprintf(bearer, sizeof(bearer), "Bearer %s", tok);
    /* released: by cookie and by bearer, a JWE to the tee-pubkey (first: the expired-token
     * request below, at now + 61, sweeps the expired sessions) */
    const char *ways[2][2] = { { cookie, NULL }, { NULL, bearer } };
    for (int i = 0; i < 2; i++) {
        struct answer a;
        call(srv, "GET", path, ways[i][0], ways[i][1], NULL, now, &a);
        struct vt_buf pt = VT_BUF_INIT;
        CHECK(a.status == 200);
        if (a.status != 200)
            fprintf(stderr, "  release %d: %d %.*s\n", i, a.status, (int)a.raw.len, (char *)a.raw.p);
        CHECK_OK(vtk_jwe_decrypt(tee_key, a.raw.p, a.raw.len, &pt));
        CHECK(pt.len == 10 && vti_ct_eq(pt.p, "top secret", 10));
        vti_buf_free(&pt);
        answer_free(&a);
    }
    refused(srv, "GET", path, NULL, bearer, NULL, now + 61, 401, "TokenExpired",
            VT_ERR_KBS_TOKEN_EXPIRED, "expired token");
    char tampered[4096];
    snprintf(tampered, sizeof(tampered), "%s", bearer);
    tampered[strlen(tampered) - 5] ^= 1;
    refused(srv, "GET", path, NULL, tampered, NULL, now, 401, "TokenVerifierError",
            VT_ERR_KBS_TOKEN_INVALID, "tampered token");
    /* a token this broker signed but without annotated evidence */
    int tv[VTK_TV_COUNT] = { 0 };
    struct vt_buf t2 = VT_BUF_INIT;
    CHECK_OK(vtk_ear_issue(&srv->signer, tv, "p", json_pack("{s:s}", "tee", "sample"), now, 60,
                           &t2));
    char b2[4096];
    snprintf(b2, sizeof(b2), "Bearer %s", t2.p ? (char *)t2.p : "");
    refused(srv, "GET", path, NULL, b2, NULL, now, 401, "TokenVerifierError",
            VT_ERR_KBS_TOKEN_INVALID, "token without annotated evidence");
    vti_buf_free(&t2);
    refused(strict, "GET", path, NULL, bearer, NULL, now, 403, "PolicyDeny",
            VT_ERR_BROKER_SIM_REFUSED, "sim token without allow-sim");
    refused(srv, "GET", "/kbs/v0/resource/other/key/one", NULL, bearer, NULL, now, 403,
            "PolicyDeny", VT_ERR_BROKER_NO_RULE, "no rule");
    refused(srv, "GET", "/kbs/v0/resource/tdxonly/key/one", NULL, bearer, NULL, now, 403,
            "PolicyDeny", VT_ERR_BROKER_TEE_NOT_ALLOWED, "tee not allowed");
    refused(srv, "GET", "/kbs/v0/resource/default/key/none", NULL, bearer, NULL, now, 404,
            "ResourceNotFound", VT_ERR_BROKER_UNKNOWN_RESOURCE, "unknown resource");
    free(tok);
}

static void count_cb(int64_t seq, const struct vtb_audit *a, void *arg)
{
    (void)seq;
    int *c = arg;
    c[0]++;
    c[1] += !strcmp(a->decision, "release");
    c[2] += !strcmp(a->op, "kbs-resource") && !strcmp(a->decision, "release") && a->insecure;
    c[3] += !strncmp(a->rid, "k", 1);
}

static void test_audit_metrics(void)
{
    int c[4] = { 0 };
    CHECK_OK(vtb_kms_ops(kms)->audit_list(vtb_kms_store(kms), 100000, count_cb, c));
    /* only authenticated decisions audited (8): releases 2 tokens + 2 resources (the sim
     * resource releases marked insecure) and the 4 policy/existence refusals of a valid
     * token; the 36 unauthenticated failures are counted, not audited; KBS request ids */
    CHECK(c[0] == 8 && c[1] == 4 && c[2] == 2 && c[3] == c[0]);
    if (!(c[0] == 8 && c[1] == 4 && c[2] == 2 && c[3] == c[0]))
        fprintf(stderr, "  audit: %d rows, %d releases, %d insecure, %d k-rids\n", c[0], c[1],
                c[2], c[3]);
    struct answer a;
    call(srv, "GET", "/metrics", NULL, NULL, NULL, now, &a);
    const char *want = "veritee_kbs_resource_total{result=\"released\"} 2\n";
    CHECK(a.status == 200 && a.raw.len && memmem(a.raw.p, a.raw.len, want, strlen(want)));
    /* exact unauthenticated counts (srv only: the strict server has its own) */
    static const char *const counts[] = {
        "veritee_kbs_unauthenticated_total{reason=\"bad-path\"} 4\n",
        "veritee_kbs_unauthenticated_total{reason=\"no-token\"} 3\n",
        "veritee_kbs_unauthenticated_total{reason=\"bad-token\"} 4\n",
        "veritee_kbs_unauthenticated_total{reason=\"attest\"} 25\n", /* incl. the even RSA modulus */
    };
    for (size_t i = 0; i < VT_ARRAY_LEN(counts); i++)
        CHECK(a.raw.len && memmem(a.raw.p, a.raw.len, counts[i], strlen(counts[i])));
    answer_free(&a);
}

/* 2000 bad requests within one second: no audit row, 2000 counted, ONE log line; the next
 * second's first failure logs again (with the suppressed count). */
/* POST /kbs/v0/auth from peer at `at` on k: the status and problem code ("" if none). */
static int auth_from(struct vtk_server *k, const char *peer, int64_t at, char code[64])
{
    const char *body = "{\"version\":\"0.4.0\",\"tee\":\"sample\",\"extra-params\":\"\"}";
    struct vtk_request rq = { .method = "POST", .path = "/kbs/v0/auth",
                              .body = (const uint8_t *)body, .body_len = strlen(body),
                              .peer = peer };
    struct vtk_response resp = { .body = VT_BUF_INIT };
    vtk_handle(k, &rq, at, &resp);
    json_error_t e;
    json_t *j = resp.body.len ? json_loadb((const char *)resp.body.p, resp.body.len, 0, &e) : NULL;
    const char *c = json_string_value(json_object_get(j, "code"));
    snprintf(code, 64, "%s", c ? c : "");
    bool cookie = strstr(resp.set_cookie, "kbs-session-id=") != NULL;
    int status = resp.status == 200 && !cookie ? -1 : resp.status;
    json_decref(j);
    vti_buf_free(&resp.body);
    return status;
}

static int64_t session_rows(void)
{
    sqlite3 *db = NULL;
    char path[600];
    snprintf(path, sizeof(path), "%s/kbs.db", vt_test_tmpdir());
    sqlite3_stmt *q = NULL;
    int64_t n = -1;
    if (sqlite3_open(path, &db) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "SELECT count(*) FROM kbs_sessions", -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        n = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return n;
}

/* A capped auth's problem body: status 429 with its own title (found by kbs_request_fuzz: the
 * title was "Internal Server Error"), type TooManySessions, code BROKER_KBS_SESSION_LIMIT. */
static bool cap_problem_ok(struct vtk_server *k, const char *peer, int64_t at)
{
    const char *body = "{\"version\":\"0.4.0\",\"tee\":\"sample\",\"extra-params\":\"\"}";
    struct vtk_request rq = { .method = "POST", .path = "/kbs/v0/auth",
                              .body = (const uint8_t *)body, .body_len = strlen(body),
                              .peer = peer };
    struct vtk_response resp = { .body = VT_BUF_INIT };
    vtk_handle(k, &rq, at, &resp);
    json_error_t e;
    json_t *j = resp.body.len ? json_loadb((const char *)resp.body.p, resp.body.len, 0, &e) : NULL;
    const char *title = json_string_value(json_object_get(j, "title"));
    const char *type = json_string_value(json_object_get(j, "type"));
    const char *code = json_string_value(json_object_get(j, "code"));
    bool ok = resp.status == 429 && json_integer_value(json_object_get(j, "status")) == 429 &&
              title && !strcmp(title, "Too Many Requests") && type &&
              !strcmp(type, PROBLEM "TooManySessions") && code &&
              !strcmp(code, vt_errname(VT_ERR_BROKER_KBS_SESSION_LIMIT));
    if (!ok)
        fprintf(stderr, "  capped auth: %d %.*s\n", resp.status, (int)resp.body.len,
                (const char *)resp.body.p);
    json_decref(j);
    vti_buf_free(&resp.body);
    return ok;
}

/* Auth sessions per address are capped (429, nothing written); other addresses are served;
 * expired sessions do not count. */
static void test_session_cap(void)
{
    struct vtk_config cfg = { .allow_sim = true, .root_ca = { root }, .n_root_ca = 1,
                              .token_lifetime = 60, .session_lifetime = 30,
                              .max_sessions_per_address = 3 };
    struct vtk_server *k = NULL;
    CHECK_OK(vtk_new(&cfg, &st, now, &k));
    if (!k)
        return;
    char code[64];
    int64_t t = now + 1000;
    for (int i = 0; i < 3; i++)
        CHECK(auth_from(k, "10.9.8.7", t, code) == 200);
    int64_t rows = session_rows();
    CHECK(rows > 0);
    CHECK(auth_from(k, "10.9.8.7", t, code) == 429 &&
          !strcmp(code, vt_errname(VT_ERR_BROKER_KBS_SESSION_LIMIT)));
    CHECK(auth_from(k, "10.9.8.7", t, code) == 429 &&
          !strcmp(code, vt_errname(VT_ERR_BROKER_KBS_SESSION_LIMIT)));
    CHECK(session_rows() == rows); /* nothing written */
    CHECK(cap_problem_ok(k, "10.9.8.7", t));
    CHECK(auth_from(k, "10.9.8.6", t, code) == 200);
    CHECK(auth_from(k, "10.9.8.7", t + 31, code) == 200); /* the first three expired */
    vtk_free(k);
}

static void test_unauth_flood(void)
{
    int before[4] = { 0 }, after[4] = { 0 };
    CHECK_OK(vtb_kms_ops(kms)->audit_list(vtb_kms_store(kms), 100000, count_cb, before));
    unsigned long n0 = atomic_load(&srv->m.unauth[VTK_UNAUTH_TOKEN]);
    unauth_lines = 0;
    for (int i = 0; i < 2000; i++) {
        struct answer a;
        call(srv, "GET", "/kbs/v0/resource/default/key/one", NULL, NULL, NULL, now + 100, &a);
        answer_free(&a);
    }
    CHECK(unauth_lines == 1);
    CHECK(atomic_load(&srv->m.unauth[VTK_UNAUTH_TOKEN]) == n0 + 2000);
    CHECK(atomic_load(&srv->m.unauth_quiet[VTK_UNAUTH_TOKEN]) == 1999);
    struct answer a;
    call(srv, "GET", "/kbs/v0/resource/default/key/one", NULL, NULL, NULL, now + 101, &a);
    answer_free(&a);
    CHECK(unauth_lines == 2 && atomic_load(&srv->m.unauth_quiet[VTK_UNAUTH_TOKEN]) == 0);
    CHECK_OK(vtb_kms_ops(kms)->audit_list(vtb_kms_store(kms), 100000, count_cb, after));
    CHECK(after[0] == before[0]);
}

/* Run after test_audit_metrics (its row counts). */
static void test_resource_percent(void)
{
    const char *bp = "InvalidRequestPath";
    /* the path as sent (http.c does not unescape): any percent-encoding is 400 */
    static const char *const pct[] = { "/kbs/v0/resource/default/key/one%00/../x",
                                       "/kbs/v0/resource/default%2Fkey%2Fone",
                                       "/kbs/v0/resource/default/key/%6fne",
                                       "/kbs/v0/resource/default/key/one%" };
    for (size_t i = 0; i < VT_ARRAY_LEN(pct); i++)
        refused(srv, "GET", pct[i], NULL, NULL, NULL, now, 400, bp, VT_ERR_BROKER_BAD_PATH,
                pct[i]);
}

/* RFC 9112 §6.3 framing (http.c answers a refusal with 400). */
static void test_framing(void)
{
    CHECK_OK(vtk_http_framing(&(struct vtk_framing){ 0 }));
    CHECK_OK(vtk_http_framing(&(struct vtk_framing){ .n_cl = 1 }));
    CHECK_OK(vtk_http_framing(&(struct vtk_framing){ .n_te = 1, .te = "chunked" }));
    CHECK_OK(vtk_http_framing(&(struct vtk_framing){ .n_te = 1, .te = "Chunked" }));
    CHECK_ERR(vtk_http_framing(&(struct vtk_framing){ .n_cl = 1, .n_te = 1, .te = "chunked" }),
              VT_ERR_KBS_HTTP_FRAMING);
    CHECK_ERR(vtk_http_framing(&(struct vtk_framing){ .n_cl = 2 }), VT_ERR_KBS_HTTP_FRAMING);
    CHECK_ERR(vtk_http_framing(&(struct vtk_framing){ .n_te = 2, .te = "chunked" }),
              VT_ERR_KBS_HTTP_FRAMING);
    CHECK_ERR(vtk_http_framing(&(struct vtk_framing){ .n_te = 1, .te = "gzip" }),
              VT_ERR_KBS_HTTP_FRAMING);
    CHECK_ERR(vtk_http_framing(&(struct vtk_framing){ .n_te = 1, .te = "gzip, chunked" }),
              VT_ERR_KBS_HTTP_FRAMING);
    CHECK_ERR(vtk_http_framing(&(struct vtk_framing){ .n_te = 1, .te = NULL }),
              VT_ERR_KBS_HTTP_FRAMING);
}

/* ---- az-snp-vtpm / az-tdx-vtpm: the evidence object guest-components sends --------------- */

/* An /attest on a fresh session of tee on k at time at, with primary_evidence ev (JSON text)
 * and the optional init-data member init; refused as given. */
static void az_refused(struct vtk_server *k, const char *tee, int64_t at, const char *ev,
                       const char *init, int status, const char *type, int code,
                       const char *what)
{
    char cookie[64], nonce[64];
    int64_t keep = now;
    now = at;
    bool authed = auth(k, tee, cookie, nonce);
    now = keep;
    if (!authed)
        return;
    char *jwk = json_dumps(tee_jwk, JSON_COMPACT), *body = NULL;
    if (asprintf(&body, "{%s%s%s\"runtime-data\":{\"nonce\":\"%s\",\"tee-pubkey\":%s},"
                 "\"tee-evidence\":{\"primary_evidence\":%s,\"additional_evidence\":\"\"}}",
                 init ? "\"init-data\":" : "", init ? init : "", init ? "," : "", nonce, jwk,
                 ev) < 0)
        body = NULL;
    CHECK(body != NULL);
    if (body)
        refused(k, "POST", "/kbs/v0/attest", cookie, NULL, body, at, status, type, code, what);
    free(body);
    free(jwk);
}

/* The real Trustee evidence (Azure SNP CVM, evidence v2, Milan) verifies up to the TPM
 * quote's nonce, which is not this session's runtime-data digest: refused as a binding
 * mismatch. Both Azure tees are accepted at /auth; unknown and unsupported names are not. */
static void test_azure(void)
{
    const int64_t at = 1738168423; /* 2025-01-29T16:33:43Z: the evidence's time */
    static char chain[4096]; /* vt_testdata's buffer is reused; the config keeps the pointer */
    snprintf(chain, sizeof(chain), "%s", vt_testdata("snp/ask_ark_milan.pem"));
    struct vtk_config cfg = { .collateral = chain, .token_lifetime = 60, .session_lifetime = 30 };
    struct vtk_server *azs = NULL;
    CHECK_OK(vtk_new(&cfg, &st, at, &azs));
    struct vt_buf ev = vt_testdata_read("azure/trustee_az_snp_vtpm_evidence_v2.json");
    CHECK_OK(vti_buf_cstr(&ev));
    if (!azs || !ev.len) {
        vtk_free(azs);
        vti_buf_free(&ev);
        return;
    }
    const char *ie = "InvalidRequest", *ae = "AttestationError", *ut = "UnsupportedTee";
    char cookie[64], nonce[64];
    CHECK(auth(azs, "az-snp-vtpm", cookie, nonce) && auth(azs, "az-tdx-vtpm", cookie, nonce));
    refused(azs, "POST", "/kbs/v0/auth", NULL, NULL,
            "{\"version\":\"0.4.0\",\"tee\":\"az-sev-vtpm\"}", at, 400, ut, VT_ERR_KBS_BAD_TEE,
            "unknown az tee");
    refused(azs, "POST", "/kbs/v0/auth", NULL, NULL, "{\"version\":\"0.4.0\",\"tee\":\"cca\"}",
            at, 400, ut, VT_ERR_KBS_BAD_TEE, "known, unsupported tee");
    const char *evs = (const char *)ev.p;
    az_refused(azs, "az-snp-vtpm", at, evs, NULL, 403, ae, VT_ERR_KBS_BINDING_MISMATCH,
               "real az-snp-vtpm evidence, another runtime-data digest");
    az_refused(azs, "az-tdx-vtpm", at, evs, NULL, 403, ae, VT_ERR_KBS_EVIDENCE,
               "az-snp-vtpm evidence in an az-tdx-vtpm session");
    az_refused(azs, "snp", at, evs, NULL, 400, ie, VT_ERR_KBS_BAD_JSON,
               "az-snp-vtpm evidence in an snp session");
    /* init-data on a PCR 8 tee: only algorithm "sha256" (checked before the evidence); sha256
     * passes on to the evidence (whose nonce is another session's) */
    static const struct { const char *tee, *init; int status, code; } inits[] = {
        { "az-snp-vtpm", "{\"format\":\"toml\",\"body\":\"a = 1\"}", 403,
          VT_ERR_KBS_INIT_DATA_ALG },
        { "az-tdx-vtpm", "{\"format\":\"toml\",\"body\":\"algorithm = \\\"sha384\\\"\"}", 403,
          VT_ERR_KBS_INIT_DATA_ALG },
        { "tpm", "{\"format\":\"toml\",\"body\":\"algorithm = \\\"sha512\\\"\"}", 403,
          VT_ERR_KBS_INIT_DATA_ALG },
        { "az-snp-vtpm", "{\"format\":\"toml\",\"body\":\"algorithm = sha256\"}", 400,
          VT_ERR_KBS_INIT_DATA_TOML },
        { "az-snp-vtpm", "{\"format\":\"toml\",\"body\":\"algorithm = \\\"sha256\\\"\"}", 403,
          VT_ERR_KBS_BINDING_MISMATCH },
    };
    for (size_t i = 0; i < VT_ARRAY_LEN(inits); i++)
        az_refused(azs, inits[i].tee, at, evs, inits[i].init, inits[i].status,
                   inits[i].status == 400 ? ie : ae, inits[i].code, inits[i].init);
    az_refused(azs, "az-snp-vtpm", at, "{\"version\":2}", NULL, 403, ae, VT_ERR_KBS_EVIDENCE,
               "az evidence without its fields");
    az_refused(azs, "az-snp-vtpm", at, "[1]", NULL, 400, ie, VT_ERR_KBS_BAD_JSON,
               "az evidence not an object");
    /* the refusal names the TPM quote's nonce as the reason */
    char nonce2[64];
    int64_t keep = now;
    now = at;
    if (auth(azs, "az-snp-vtpm", cookie, nonce2)) {
        char *jwk = json_dumps(tee_jwk, JSON_COMPACT), *body = NULL;
        if (asprintf(&body, "{\"runtime-data\":{\"nonce\":\"%s\",\"tee-pubkey\":%s},"
                     "\"tee-evidence\":{\"primary_evidence\":%s}}", nonce2, jwk, evs) < 0)
            body = NULL;
        struct answer a;
        call(azs, "POST", "/kbs/v0/attest", cookie, NULL, body ? body : "", at, &a);
        const char *d = json_string_value(json_object_get(a.body, "detail"));
        CHECK(a.status == 403 && d && strstr(d, "TPM quote extraData"));
        answer_free(&a);
        free(body);
        free(jwk);
    }
    now = keep;
    vtk_free(azs);
    vti_buf_free(&ev);
}

/* GET the resource with token tok at time at: the status (and the JWE decrypts to the secret
 * on 200). */
static int fetch_with(struct vtk_server *k, const char *tok, size_t n, int64_t at,
                      char code[64])
{
    char bearer[8192];
    snprintf(bearer, sizeof(bearer), "Bearer %.*s", (int)n, tok);
    struct answer a;
    call(k, "GET", "/kbs/v0/resource/default/key/one", NULL, bearer, NULL, at, &a);
    int status = a.status;
    snprintf(code, 64, "%s", a.code);
    if (status == 200) {
        struct vt_buf pt = VT_BUF_INIT;
        bool ok = !vtk_jwe_decrypt(tee_key, a.raw.p, a.raw.len, &pt).err && pt.len == 10 &&
                  vti_ct_eq(pt.p, "top secret", 10);
        status = ok ? 200 : -1;
        vti_buf_free(&pt);
    }
    answer_free(&a);
    return status;
}

/* What the verifier alone says of tok at time at: the expected (status, code) of a fetch. */
static int verify_alone(const char *tok, size_t n, int64_t at, char code[64])
{
    json_t *claims = NULL;
    vt_res v = vtk_ear_verify(&srv->signer, tok, n, at, &claims);
    json_decref(claims);
    snprintf(code, 64, "%s", v.err ? vt_errname(v.err) : "");
    return v.err ? 401 : 200;
}

static bool memo_moved(struct vtk_token_memo_stats *was, uint64_t hits, uint64_t misses)
{
    struct vtk_token_memo_stats now_;
    vtk_token_memo_stats(srv->tokens, &now_);
    bool ok = now_.hits == was->hits + hits && now_.misses == was->misses + misses;
    *was = now_;
    return ok;
}

/* Every single-character change of a memoized token (and a longer and a shorter one) is a
 * memo miss answered exactly as the verifier alone answers it; the token itself is a hit;
 * a hit still goes through the time checks and the policy. */
static void test_token_memo(void)
{
    char cookie[64], code[64], want[64];
    char *tok = attest_ok(srv, cookie);
    if (!tok)
        return;
    size_t n = strlen(tok);
    /* memoized when issued: what the memo holds is what verification gives */
    struct vtk_token_result m = { 0 };
    json_t *claims = NULL;
    EVP_PKEY *key = NULL;
    enum vtk_keyalg alg = 0;
    CHECK(vtk_token_memo_get(srv->tokens, (const uint8_t *)tok, n, now, &m));
    CHECK_OK(vtk_ear_verify(&srv->signer, tok, n, now, &claims));
    CHECK_OK(vtk_jwk_public(tee_jwk, &key, &alg));
    CHECK(m.claims && json_equal(m.claims, claims) && m.alg == alg && m.key &&
          EVP_PKEY_eq(m.key, key) == 1);
    json_decref(claims);
    json_decref(m.claims);
    EVP_PKEY_free(m.key);
    EVP_PKEY_free(key);
    struct vtk_token_memo_stats s;
    vtk_token_memo_stats(srv->tokens, &s);
    CHECK(fetch_with(srv, tok, n, now, code) == 200 && memo_moved(&s, 1, 0));
    static const char alt[] = "AbQ-_9.=";
    int changed = 0, same = 0;
    for (size_t i = 0; i < n; i++) {
        for (const char *c = alt; *c; c++) {
            if (*c == tok[i])
                continue;
            char was = tok[i];
            tok[i] = *c;
            int ws = verify_alone(tok, n, now, want), gs = fetch_with(srv, tok, n, now, code);
            bool ok = gs == ws && (ws == 200 || !strcmp(code, want)) && memo_moved(&s, 0, 1);
            CHECK(ok);
            if (!ok)
                fprintf(stderr, "  token[%zu]='%c': want %d %s, got %d %s\n", i, *c, ws, want,
                        gs, code);
            changed += ws != 200, same += ws == 200;
            tok[i] = was;
        }
    }
    CHECK(changed > 0 && same == 0); /* base64url is canonical: no change verifies */
    char longer[8192];
    snprintf(longer, sizeof(longer), "%sA", tok);
    CHECK(fetch_with(srv, longer, n + 1, now, code) == 401 && memo_moved(&s, 0, 1));
    CHECK(fetch_with(srv, tok, n - 1, now, code) == 401 && memo_moved(&s, 0, 1));
    CHECK(fetch_with(srv, tok, n, now, code) == 200 && memo_moved(&s, 1, 0));
    /* a hit is still refused by the policy and answered at its own time */
    char bearer[8192];
    snprintf(bearer, sizeof(bearer), "Bearer %s", tok);
    refused(srv, "GET", "/kbs/v0/resource/tdxonly/key/one", NULL, bearer, NULL, now, 403,
            "PolicyDeny", VT_ERR_BROKER_TEE_NOT_ALLOWED, "policy after a hit");
    CHECK(memo_moved(&s, 1, 0));
    CHECK(fetch_with(srv, tok, n, now + 59, code) == 200 && memo_moved(&s, 1, 0));
    CHECK(fetch_with(srv, tok, n, now + 60, code) == 401 &&
          !strcmp(code, vt_errname(VT_ERR_KBS_TOKEN_EXPIRED)) && memo_moved(&s, 0, 1));
    CHECK(fetch_with(srv, tok, n, now, code) == 200 && memo_moved(&s, 0, 1)); /* dropped */
    CHECK(fetch_with(srv, tok, n, now - 61, code) == 401 &&
          !strcmp(code, vt_errname(VT_ERR_KBS_TOKEN_INVALID)) && memo_moved(&s, 0, 1));
    /* the other server (another memo) verifies for itself */
    CHECK(fetch_with(strict, tok, n, now, code) == 403);
    free(tok);
}

/* Fail closed: while audit rows cannot be written, no token and no resource goes out (500
 * AuditFailed, VT_ERR_BROKER_AUDIT_FAILED), and the refused attestation's session does not
 * hold its token; once rows can be written, the same requests succeed. */
static void test_audit_fails(void)
{
    char cookie[64], bearer[8192];
    char *tok = attest_ok(srv, cookie);
    if (!tok)
        return;
    snprintf(bearer, sizeof(bearer), "Bearer %s", tok);
    const char *path = "/kbs/v0/resource/default/key/one";
    char c2[64], nonce[64];
    if (!auth(srv, "sample", c2, nonce)) {
        free(tok);
        return;
    }
    char *body = attest_body(&(struct attest_spec){ .nonce = nonce });
    vt_test_audit_breaks(store_db, true);
    refused(srv, "POST", "/kbs/v0/attest", c2, NULL, body, now, 500, "AuditFailed",
            VT_ERR_BROKER_AUDIT_FAILED, "attest, audit failing");
    free(body);
    refused(srv, "GET", path, NULL, bearer, NULL, now, 500, "AuditFailed",
            VT_ERR_BROKER_AUDIT_FAILED, "token fetch, audit failing");
    refused(srv, "GET", path, cookie, NULL, NULL, now, 500, "AuditFailed",
            VT_ERR_BROKER_AUDIT_FAILED, "cookie fetch, audit failing");
    vt_test_audit_breaks(store_db, false);
    /* the refused attestation left its session unattested: its cookie brings no token */
    refused(srv, "GET", path, c2, NULL, NULL, now, 401, "UnAuthenticated", VT_ERR_KBS_NOT_ATTESTED,
            "cookie of an attestation refused for its audit");
    struct answer a;
    call(srv, "GET", path, NULL, bearer, NULL, now, &a);
    CHECK(a.status == 200 && a.raw.len > 0);
    answer_free(&a);
    free(tok);
}

int main(void)
{
    test_framing();
    setup();
    if (!srv || !strict)
        return vt_test_done();
    test_routing();
    test_auth();
    test_attest_session();
    test_attest_body();
    test_resource();
    test_audit_metrics();
    test_unauth_flood();
    test_resource_percent();
    test_session_cap();
    test_azure();
    test_init_data_alg(); /* after test_audit_metrics: its releases change the audit counts */
    test_token_memo();
    test_audit_fails(); /* last: it adds audit rows and refusals */
    vtk_free(srv);
    vtk_free(strict);
    vtb_state_fini(&st);
    vtb_kms_close(kms);
    EVP_PKEY_free(tee_key);
    json_decref(tee_jwk);
    return vt_test_done();
}
