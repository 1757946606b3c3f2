/* SPDX-License-Identifier: Apache-2.0 */
/*
 * broker_handle_test.c - the broker's agent request handler (src/broker/handler.c) without a
 * socket: an attested agent's appraisal input + request bytes -> reply. Asserts the error
 * code (framed protocol) or the reason (legacy EAA) of every refusal the handler produces:
 * malformed, unknown op, bad path, bad field, peer not attested, sim refused, each policy
 * denial (no rule, TEE, TCB, claim missing/mismatch, reference value mismatch/expired),
 * unknown resource, not a key, unwrap of an unknown key version and of tampered data,
 * legacy decryption failure; the successes (version, get-resource, unwrap, Get KEK,
 * Decrypt, Get Resource, Get Resource Info), and that decisions reach the audit table.
 */
#include <stdlib.h>
#include <string.h>

#include "broker/handler.h"
#include "util/codec.h"
#include "vt_test.h"
#include "vt_test_audit.h"

static struct vtb_kms *kms;
static struct vtb_state st;
static int log_lines;

static void count_log(void *arg, const char *line)
{
    (void)arg;
    (void)line;
    log_lines++;
}

static const struct vtb_claim_str good_claims[] = {
    { "measurement", "aabbccdd" }, { "debug", "false" }, { "svn", "3" },
};
static const struct vtb_input good_in = { .tee = "sim", .claims = good_claims, .n_claims = 3 };

#define POLICY                                                                              \
    "{\"version\":1,\"rules\":["                                                            \
    "{\"name\":\"app\",\"resources\":[\"default/key/*\",\"default/res/*\"],\"tee\":[\"sim\"]," \
    "\"reference\":[\"measurement\"],\"claims\":{\"debug\":false,\"svn\":[2,3]}},"          \
    "{\"name\":\"old\",\"resources\":[\"legacy/res/*\"],\"reference\":[\"fw\"]}]}"

static char db[512]; /* the store's SQLite file */

static void setup(void)
{
    uint8_t mk[32];
    memset(mk, 9, sizeof(mk));
    snprintf(db, sizeof(db), "%s/handler.db", vt_test_tmpdir());
    CHECK_OK(vtb_kms_open(&vtb_store_sqlite, db, mk, &kms));
    CHECK_OK(vtb_state_init(&st, kms));
    st.sink = count_log;
    CHECK_OK(vtb_kms_policy_set(kms, POLICY, 1));
    int64_t id;
    struct vtb_refval rv = { .name = "measurement", .value = "aabbccdd", .source = "t" };
    CHECK_OK(vtb_kms_refval_add(kms, &rv, &id));
    struct vtb_refval fw = { .name = "fw", .value = "01", .source = "t", .expires = 1000 };
    CHECK_OK(vtb_kms_refval_add(kms, &fw, &id));
    CHECK_OK(vtb_kms_put_resource(kms, "default/res/one", (const uint8_t *)"hello", 5, 1));
    CHECK_OK(vtb_kms_key_create(kms, "default/key/k1", 1));
    CHECK_OK(vtb_state_reload(&st));
}

/* The reply's error code name ("" for ok:true), from a framed reply. */
static void reply_code(const char *reply, char *out, size_t n)
{
    json_error_t e;
    json_t *j = reply ? json_loads(reply, 0, &e) : NULL;
    const char *c = json_string_value(json_object_get(json_object_get(j, "error"), "code"));
    snprintf(out, n, "%s", json_is_true(json_object_get(j, "ok")) ? "" : c ? c : "?");
    json_decref(j);
}

static char *ask(const struct vtb_agent_env *e, const struct vtb_agent_peer *p, const char *req,
                 bool legacy)
{
    return vtb_agent_reply(e, p, (const uint8_t *)req, strlen(req), legacy, "t-1");
}

/* A framed request refused with code (or, code 0, answered ok). */
static void expect(const struct vtb_agent_env *e, const struct vtb_agent_peer *p,
                   const char *req, int code)
{
    char *r = ask(e, p, req, false), got[64];
    reply_code(r, got, sizeof(got));
    const char *want = code ? vt_errname(code) : "";
    CHECK(strcmp(got, want) == 0);
    if (strcmp(got, want) != 0)
        fprintf(stderr, "  request %s: want %s, got %s (%s)\n", req, want, got, r ? r : "NULL");
    vtb_reply_free(r);
}

static void count_cb(int64_t seq, const struct vtb_audit *a, void *arg)
{
    (void)seq;
    struct { int n, release, insecure; } *c = arg;
    c->n++;
    c->release += strcmp(a->decision, "release") == 0;
    c->insecure += a->insecure;
}

static void test_framed(void)
{
    struct vtb_agent_env e = { .st = &st, .allow_sim = true };
    struct vtb_agent_peer p = { .peer = "127.0.0.1:1", .insecure = true, .in = &good_in };
    /* malformed requests (parser refusals, answered with the request's id when it has one) */
    expect(&e, &p, "{\"id\":1,", VT_ERR_BROKER_MALFORMED_REQUEST);
    expect(&e, &p, "[1]", VT_ERR_BROKER_MALFORMED_REQUEST);
    expect(&e, &p, "{\"op\":\"version\"}", VT_ERR_BROKER_BAD_ID);
    expect(&e, &p, "{\"id\":1,\"op\":\"launch\"}", VT_ERR_BROKER_UNKNOWN_OP);
    expect(&e, &p, "{\"id\":1,\"op\":\"get-resource\"}", VT_ERR_BROKER_BAD_FIELD);
    expect(&e, &p, "{\"id\":1,\"op\":\"get-resource\",\"path\":\"default/../x\"}",
           VT_ERR_BROKER_BAD_PATH);
    expect(&e, &p, "{\"id\":1,\"op\":\"unwrap\",\"annotation\":\"!!\"}", VT_ERR_BROKER_BAD_FIELD);
    /* successes */
    expect(&e, &p, "{\"id\":1,\"op\":\"version\"}", 0);
    char *r = ask(&e, &p, "{\"id\":\"a\",\"op\":\"get-resource\",\"path\":\"default/res/one\"}",
                  false);
    CHECK(r && strstr(r, "\"ok\":true") && strstr(r, "\"data\":\"aGVsbG8=\"") &&
          strstr(r, "\"id\":\"a\"") && strstr(r, "\"rid\":\"t-1\""));
    vtb_reply_free(r);
    /* the peer */
    struct vtb_agent_peer none = { .peer = "p", .in = NULL };
    expect(&e, &none, "{\"id\":1,\"op\":\"get-resource\",\"path\":\"default/res/one\"}",
           VT_ERR_BROKER_NOT_ATTESTED);
    struct vtb_agent_env strict = { .st = &st, .allow_sim = false };
    expect(&strict, &p, "{\"id\":1,\"op\":\"get-resource\",\"path\":\"default/res/one\"}",
           VT_ERR_BROKER_SIM_REFUSED);
    /* the policy */
    expect(&e, &p, "{\"id\":1,\"op\":\"get-resource\",\"path\":\"other/res/one\"}",
           VT_ERR_BROKER_NO_RULE);
    struct vtb_input in = good_in;
    struct vtb_agent_peer q = p;
    q.in = &in;
    in.tee = "tdx";
    expect(&e, &q, "{\"id\":1,\"op\":\"get-resource\",\"path\":\"default/res/one\"}",
           VT_ERR_BROKER_TEE_NOT_ALLOWED);
    in = good_in;
    in.tcb_status = "OutOfDate";
    expect(&e, &q, "{\"id\":1,\"op\":\"get-resource\",\"path\":\"default/res/one\"}",
           VT_ERR_BROKER_TCB_NOT_ACCEPTED);
    in = good_in;
    struct vtb_claim_str bad[3] = { { "measurement", "00" }, { "debug", "false" }, { "svn", "3" } };
    in.claims = bad;
    expect(&e, &q, "{\"id\":1,\"op\":\"get-resource\",\"path\":\"default/res/one\"}",
           VT_ERR_BROKER_REFVAL_MISMATCH);
    bad[0].value = "AABBCCDD"; /* reference values compare case-insensitively (hex) */
    bad[1].value = "true";
    expect(&e, &q, "{\"id\":1,\"op\":\"get-resource\",\"path\":\"default/res/one\"}",
           VT_ERR_BROKER_CLAIM_MISMATCH);
    bad[1].value = "false";
    bad[2].value = "4";
    expect(&e, &q, "{\"id\":1,\"op\":\"get-resource\",\"path\":\"default/res/one\"}",
           VT_ERR_BROKER_CLAIM_MISMATCH);
    in.n_claims = 2; /* no svn */
    expect(&e, &q, "{\"id\":1,\"op\":\"get-resource\",\"path\":\"default/res/one\"}",
           VT_ERR_BROKER_CLAIM_MISSING);
    in.n_claims = 0;
    expect(&e, &q, "{\"id\":1,\"op\":\"get-resource\",\"path\":\"default/res/one\"}",
           VT_ERR_BROKER_CLAIM_MISSING);
    struct vtb_claim_str fw[1] = { { "fw", "01" } };
    in.claims = fw;
    in.n_claims = 1;
    expect(&e, &q, "{\"id\":1,\"op\":\"get-resource\",\"path\":\"legacy/res/one\"}",
           VT_ERR_BROKER_REFVAL_EXPIRED);
    /* existence only after the policy allowed the path */
    expect(&e, &p, "{\"id\":1,\"op\":\"get-resource\",\"path\":\"default/res/none\"}",
           VT_ERR_BROKER_UNKNOWN_RESOURCE);
}

/* A wrapped-key annotation for default/key/k1 (version ver), base64, optionally tampered. */
static char *annotation(int64_t ver, bool tamper)
{
    struct vtp_wrapped w;
    struct vt_buf ann = VT_BUF_INIT, b64 = VT_BUF_INIT;
    CHECK_OK(vtb_kms_wrap(kms, "default/key/k1", (const uint8_t *)"wrapped secret", 14, &w));
    w.key_version = ver;
    if (tamper)
        w.ct.p[0] ^= 1;
    CHECK_OK(vtp_wrapped_json(&w, &ann));
    CHECK_OK(vti_b64_encode(ann.p, ann.len, false, &b64));
    CHECK_OK(vti_buf_cstr(&b64));
    vtp_wrapped_free(&w);
    vti_buf_free(&ann);
    char *s = NULL;
    if (asprintf(&s, "{\"id\":2,\"op\":\"unwrap\",\"annotation\":\"%s\"}", (char *)b64.p) < 0)
        s = NULL;
    vti_buf_free(&b64);
    return s;
}

static void test_unwrap(void)
{
    struct vtb_agent_env e = { .st = &st, .allow_sim = true };
    struct vtb_agent_peer p = { .peer = "127.0.0.1:1", .insecure = true, .in = &good_in };
    char *req = annotation(1, false);
    char *r = ask(&e, &p, req, false);
    CHECK(r && strstr(r, "\"ok\":true") && strstr(r, "\"data\":\"d3JhcHBlZCBzZWNyZXQ=\""));
    vtb_reply_free(r);
    free(req);
    req = annotation(7, false);
    expect(&e, &p, req, VT_ERR_BROKER_UNKNOWN_RESOURCE);
    free(req);
    req = annotation(1, true);
    r = ask(&e, &p, req, false);
    char got[64];
    reply_code(r, got, sizeof(got));
    CHECK(got[0] && strcmp(got, "VT_ERR_BROKER_UNKNOWN_RESOURCE") != 0 &&
          strstr(r, "unwrap failed") != NULL);
    vtb_reply_free(r);
    free(req);
    struct vtb_agent_peer none = { .peer = "p", .in = NULL };
    req = annotation(1, false);
    expect(&e, &none, req, VT_ERR_BROKER_NOT_ATTESTED);
    free(req);
}

/* A legacy reply: {"status":"OK"...} (want NULL) or a failure whose error contains want. */
static void expect_eaa(const struct vtb_agent_env *e, const struct vtb_agent_peer *p,
                       const char *req, const char *want)
{
    char *r = ask(e, p, req, true);
    json_error_t je;
    json_t *j = r ? json_loads(r, 0, &je) : NULL;
    const char *status = json_string_value(json_object_get(j, "status"));
    const char *err = json_string_value(json_object_get(j, "error"));
    bool ok = want ? status && !strcmp(status, "Fail") && err && strstr(err, want)
                   : status && !strcmp(status, "OK");
    CHECK(ok);
    if (!ok)
        fprintf(stderr, "  legacy %s: want %s, got %s\n", req, want ? want : "OK", r ? r : "NULL");
    json_decref(j);
    vtb_reply_free(r);
}

static void test_legacy(void)
{
    struct vtb_agent_env e = { .st = &st, .allow_sim = true };
    struct vtb_agent_peer p = { .peer = "127.0.0.1:2", .insecure = true, .in = &good_in };
    expect_eaa(&e, &p, "{\"command\":\"version\"}", NULL);
    expect_eaa(&e, &p, "{\"command\":", "malformed request");
    expect_eaa(&e, &p, "{\"command\":\"rm -rf\"}", "unknown");
    expect_eaa(&e, &p, "{\"command\":\"Get KEK\",\"kids\":[\"../../etc/passwd\"]}",
               "invalid resource path");
    expect_eaa(&e, &p, "{\"command\":\"Get KEK\",\"kids\":[\"default/key/k1\"]}", NULL);
    expect_eaa(&e, &p, "{\"command\":\"Get KEK\",\"kids\":[\"default/res/one\"]}",
               "resource is not a key: default/res/one");
    expect_eaa(&e, &p, "{\"command\":\"Get KEK\",\"kids\":[\"default/key/none\"]}",
               "unknown resource: default/key/none");
    expect_eaa(&e, &p, "{\"command\":\"Get KEK\",\"kids\":[\"other/key/k1\"]}",
               "denied by policy: no rule grants other/key/k1");
    struct vtb_agent_peer none = { .peer = "p", .in = NULL };
    expect_eaa(&e, &none, "{\"command\":\"Get KEK\",\"kids\":[\"default/key/k1\"]}",
               "peer did not attest");
    struct vtb_agent_env strict = { .st = &st, .allow_sim = false };
    expect_eaa(&strict, &p, "{\"command\":\"Get KEK\",\"kids\":[\"default/key/k1\"]}",
               "sim evidence refused");
    /* Decrypt: 18 zero bytes are not a valid GCM ciphertext under the key */
    expect_eaa(&e, &p, "{\"command\":\"Decrypt\",\"blobs\":[{\"kid\":\"default/key/k1\","
                       "\"encrypted_data\":\"AAAAAAAAAAAAAAAAAAAAAAAA\",\"algorithm\":\"A256GCM\","
                       "\"key_length\":256,\"iv\":\"AAAAAAAAAAAAAAAA\"}]}",
               "decryption failed for kid default/key/k1");
    expect_eaa(&e, &p, "{\"command\":\"Decrypt\",\"blobs\":[{\"kid\":\"default/res/one\","
                       "\"encrypted_data\":\"AAAAAAAAAAAAAAAAAAAAAAAA\",\"algorithm\":\"A256GCM\","
                       "\"key_length\":256,\"iv\":\"AAAAAAAAAAAAAAAA\"}]}",
               "resource is not a key");
    expect_eaa(&e, &p, "{\"command\":\"Get Resource Info\",\"name\":\"default/res/one\"}", NULL);
    expect_eaa(&e, &p, "{\"command\":\"Get Resource Info\",\"name\":\"default/res/none\"}",
               "unknown resource");
    /* Get Resource: the resource base64-encoded, and so is a failure reply */
    char *r = ask(&e, &p, "{\"command\":\"Get Resource\",\"optional\":{\"resource_path\":"
                          "\"default/res/one\"}}", true);
    CHECK(r && strcmp(r, "aGVsbG8=") == 0);
    vtb_reply_free(r);
    r = ask(&e, &p, "{\"command\":\"Get Resource\",\"optional\":{\"resource_path\":"
                    "\"default/res/none\"}}", true);
    struct vt_buf d = VT_BUF_INIT;
    CHECK(r && !vti_b64_decode(r, strlen(r), false, &d).err && !vti_buf_cstr(&d).err &&
          strstr((char *)d.p, "\"status\":\"Fail\"") &&
          strstr((char *)d.p, "unknown resource: default/res/none"));
    vti_buf_free(&d);
    vtb_reply_free(r);
}

static void count_one(int64_t seq, const struct vtb_audit *a, void *arg)
{
    (void)seq;
    (void)a;
    ++*(int *)arg;
}

static void test_audit(void)
{
    struct { int n, release, insecure; } c = { 0 };
    const struct vtb_store_ops *ops = vtb_kms_ops(kms);
    CHECK_OK(ops->audit_list(vtb_kms_store(kms), 100000, count_cb, &c));
    /* every decision above is audited (29: parser refusals are not decisions), 6 of them
     * releases; those of the sim peer are marked insecure (all but the 3 of the peer that
     * did not attest) */
    CHECK(c.n == 29 && c.release == 6 && c.insecure == 26);
    if (c.n != 29 || c.release != 6 || c.insecure != 26)
        fprintf(stderr, "  audit: %d rows, %d releases, %d insecure\n", c.n, c.release, c.insecure);
    CHECK(log_lines >= c.n);
}

/* Fail closed: while audit rows cannot be written (a trigger installed from another
 * connection makes every audit INSERT fail), nothing is released, over either protocol; once
 * they can, the same requests succeed again. */
static void test_audit_fails(void)
{
    struct vtb_agent_env e = { .st = &st, .allow_sim = true };
    struct vtb_agent_peer p = { .peer = "127.0.0.1:1", .insecure = true, .in = &good_in };
    const char *get = "{\"id\":1,\"op\":\"get-resource\",\"path\":\"default/res/one\"}";
    char *unwrap = annotation(1, false);
    vt_test_audit_breaks(db, true);
    expect(&e, &p, get, VT_ERR_BROKER_AUDIT_FAILED);
    expect(&e, &p, unwrap, VT_ERR_BROKER_AUDIT_FAILED);
    char *r = ask(&e, &p, get, false);
    CHECK(r && !strstr(r, "aGVsbG8=")); /* the secret is not in the refusal */
    vtb_reply_free(r);
    vt_test_audit_breaks(db, false);
    expect(&e, &p, get, 0);
    expect(&e, &p, unwrap, 0);
    free(unwrap);
}

/* The audit in two halves (vtb_state_audit_begin / _end), over a store that has them
 * (SQLite) and over one that does not (the same store with them removed: end appends): a
 * row written gives 0, a row that cannot be written VT_ERR_BROKER_AUDIT_FAILED, and the
 * row's strings are read at end (they must stay alive until then). */
static void audit_halves_on(struct vtb_state *s, const char *path)
{
    char reason[32] = "halves";
    struct vtb_audit a = { .time = 9, .rid = "h1", .peer = "p", .tee = "sim", .op = "halves",
                           .path = "default/res/one", .decision = "release", .reason = reason };
    struct vtb_audit_pending pd;
    vtb_state_audit_begin(s, &a, &pd);
    CHECK_OK(vtb_state_audit_end(s, &pd));
    vt_test_audit_breaks(path, true);
    vtb_state_audit_begin(s, &a, &pd);
    CHECK_ERR(vtb_state_audit_end(s, &pd), VT_ERR_BROKER_AUDIT_FAILED);
    vt_test_audit_breaks(path, false);
}

static void test_audit_halves(void)
{
    audit_halves_on(&st, db);
    struct vtb_store_ops whole = vtb_store_sqlite;
    whole.audit_submit = NULL, whole.audit_wait = NULL;
    char db2[600];
    snprintf(db2, sizeof(db2), "%s/halves.db", vt_test_tmpdir());
    uint8_t mk[32];
    memset(mk, 7, sizeof(mk));
    struct vtb_kms *k2 = NULL;
    struct vtb_state s2;
    CHECK_OK(vtb_kms_open(&whole, db2, mk, &k2));
    if (!k2)
        return;
    CHECK_OK(vtb_state_init(&s2, k2));
    s2.sink = count_log;
    audit_halves_on(&s2, db2);
    int n = 0;
    CHECK_OK(whole.audit_list(vtb_kms_store(k2), 100, count_one, &n));
    CHECK(n == 1);
    vtb_state_fini(&s2);
    vtb_kms_close(k2);
}

int main(void)
{
    setup();
    if (!kms)
        return vt_test_done();
    test_framed();
    test_unwrap();
    test_legacy();
    test_audit();
    test_audit_fails(); /* after test_audit: it adds rows */
    test_audit_halves();
    vtb_state_fini(&st);
    vtb_kms_close(kms);
    return vt_test_done();
}
