/* SPDX-License-Identifier: Apache-2.0 */
/*
 * broker_core_test.c - unit tests of the broker core: resource path grammar, request
 * parsing (framed and legacy EAA), replies, the key store (envelope, master key handling,
 * rotation, master key rotation (all or nothing), wrap/unwrap, no plaintext at rest,
 * tamper detection), policy validation and the
 * release decision (reference values, expiry, TCB status, claims, default deny).
 */
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/kms.h"
#include "policy/policy.h"
#include "proto/proto.h"
#include "util/secmem.h"
#include "vt_test.h"

static char why[256];

static vt_res parse(const char *s, bool legacy, struct vtp_request *r)
{
    return vtp_request_parse((const uint8_t *)s, strlen(s), legacy, r, why, sizeof(why));
}

static void test_paths(void)
{
    char out[VTP_MAX_PATH + 1];
    CHECK_OK(vtp_path_check("default/key/1"));
    CHECK_OK(vtp_path_check("a.b/c_d/e-f.1"));
    CHECK_ERR(vtp_path_check("default/key"), VT_ERR_BROKER_BAD_PATH);
    CHECK_ERR(vtp_path_check("default/key/1/2"), VT_ERR_BROKER_BAD_PATH);
    CHECK_ERR(vtp_path_check("../key/1"), VT_ERR_BROKER_BAD_PATH);
    CHECK_ERR(vtp_path_check("default/../1"), VT_ERR_BROKER_BAD_PATH);
    CHECK_ERR(vtp_path_check("default/./1"), VT_ERR_BROKER_BAD_PATH);
    CHECK_ERR(vtp_path_check("default//1"), VT_ERR_BROKER_BAD_PATH);
    CHECK_ERR(vtp_path_check("default/key/1/"), VT_ERR_BROKER_BAD_PATH);
    CHECK_ERR(vtp_path_check("default/key/a b"), VT_ERR_BROKER_BAD_PATH);
    CHECK_ERR(vtp_path_check("default/key/a%2f"), VT_ERR_BROKER_BAD_PATH);
    /* segment length: 64 ok, 65 refused */
    char p[256];
    snprintf(p, sizeof(p), "r/t/%064d", 0);
    CHECK_OK(vtp_path_check(p));
    snprintf(p, sizeof(p), "r/t/%065d", 0);
    CHECK_ERR(vtp_path_check(p), VT_ERR_BROKER_BAD_PATH);
    CHECK_OK(vtp_path_normalize("kbs:///default/key/1", out));
    CHECK(strcmp(out, "default/key/1") == 0);
    CHECK_OK(vtp_path_normalize("/default/key/1", out));
    CHECK_ERR(vtp_path_normalize("//default/key/1", out), VT_ERR_BROKER_BAD_PATH);
    CHECK(vtp_path_match("default/key/*", "default/key/1"));
    CHECK(vtp_path_match("default/*/img-*", "default/x/img-7"));
    CHECK(!vtp_path_match("default/key/*", "default/keys/1"));
    CHECK(!vtp_path_match("default/key/img-*", "default/key/1"));
    CHECK(!vtp_path_match("default/key", "default/key/1"));
}

static void test_requests(void)
{
    struct vtp_request r;
    CHECK_OK(parse("{\"id\":\"a1\",\"op\":\"get-resource\",\"path\":\"default/key/1\"}", false, &r));
    CHECK(r.op == VTP_OP_GET_RESOURCE && strcmp(r.path, "default/key/1") == 0);
    vtp_request_free(&r);
    CHECK_OK(parse("{\"id\":7,\"op\":\"version\"}", false, &r));
    CHECK(r.op == VTP_OP_VERSION && json_integer_value(r.id) == 7);
    vtp_request_free(&r);
    CHECK_ERR(parse("{\"id\":\"a\",\"op\":\"get-resource\",\"path\":\"default/../x\"}", false, &r),
              VT_ERR_BROKER_BAD_PATH);
    CHECK(strstr(why, "invalid resource path") != NULL);
    CHECK(r.id && strcmp(json_string_value(r.id), "a") == 0); /* id kept for the reply */
    vtp_request_free(&r);
    CHECK_ERR(parse("{\"op\":\"version\"}", false, &r), VT_ERR_BROKER_BAD_ID);
    vtp_request_free(&r);
    CHECK_ERR(parse("{\"id\":-1,\"op\":\"version\"}", false, &r), VT_ERR_BROKER_BAD_ID);
    vtp_request_free(&r);
    CHECK_ERR(parse("{\"id\":1,\"op\":\"launch\"}", false, &r), VT_ERR_BROKER_UNKNOWN_OP);
    vtp_request_free(&r);
    CHECK_ERR(parse("{\"id\":1,\"op\":\"get-resource\"}", false, &r), VT_ERR_BROKER_BAD_FIELD);
    vtp_request_free(&r);
    CHECK_ERR(parse("{\"id\":1,", false, &r), VT_ERR_BROKER_MALFORMED_REQUEST);
    CHECK(strstr(why, "malformed request") != NULL);
    vtp_request_free(&r);
    CHECK_ERR(parse("[1]", false, &r), VT_ERR_BROKER_MALFORMED_REQUEST);
    vtp_request_free(&r);
    CHECK_ERR(parse("{\"id\":1,\"id\":2,\"op\":\"version\"}", false, &r),
              VT_ERR_BROKER_MALFORMED_REQUEST);
    vtp_request_free(&r);
    /* depth: 8 levels ok, 9 refused */
    CHECK_OK(parse("{\"id\":1,\"op\":\"version\",\"x\":[[[[[[[1]]]]]]]}", false, &r));
    vtp_request_free(&r);
    CHECK_ERR(parse("{\"id\":1,\"op\":\"version\",\"x\":[[[[[[[[1]]]]]]]]}", false, &r),
              VT_ERR_BROKER_MALFORMED_REQUEST);
    vtp_request_free(&r);
    /* size limit: at the cap the JSON is judged, past it refused before parsing */
    static char big[VTP_MAX_REQUEST + 2];
    memset(big, ' ', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    memcpy(big, "{\"id\":1,\"op\":\"version\"}", 23);
    CHECK_OK(vtp_request_parse((const uint8_t *)big, VTP_MAX_REQUEST, false, &r, why, sizeof(why)));
    vtp_request_free(&r);
    CHECK_ERR(vtp_request_parse((const uint8_t *)big, VTP_MAX_REQUEST + 1, false, &r, why,
                                sizeof(why)), VT_ERR_BROKER_REQUEST_TOO_LARGE);
    vtp_request_free(&r);

    /* legacy EAA */
    CHECK_OK(parse("{\"command\":\"Get KEK\",\"kids\":[\"default/key/1\",\"kbs:///a/b/c\"]}", true, &r));
    CHECK(r.op == VTP_OP_EAA_GET_KEK && r.n_kids == 2 && strcmp(r.kids[1], "a/b/c") == 0);
    vtp_request_free(&r);
    CHECK_OK(parse("{\"command\":\"Get Resource\",\"optional\":{\"resource_path\":\"default/x/y\"}}",
                   true, &r));
    CHECK(r.op == VTP_OP_EAA_GET_RESOURCE && strcmp(r.path, "default/x/y") == 0);
    vtp_request_free(&r);
    CHECK_OK(parse("{\"command\":\"Decrypt\",\"blobs\":[{\"kid\":\"default/key/1\","
                   "\"encrypted_data\":\"AAAAAAAAAAAAAAAAAAAAAAAA\",\"algorithm\":\"A256GCM\","
                   "\"key_length\":256,\"iv\":\"AAAAAAAAAAAAAAAA\"}]}", true, &r));
    CHECK(r.op == VTP_OP_EAA_DECRYPT && r.n_blobs == 1 && r.blobs[0].ct.len == 18);
    vtp_request_free(&r);
    CHECK_ERR(parse("{\"command\":\"Decrypt\",\"blobs\":[{\"kid\":\"default/key/1\","
                    "\"encrypted_data\":\"AAAA\",\"algorithm\":\"DES\",\"key_length\":256,"
                    "\"iv\":\"AAAAAAAAAAAAAAAA\"}]}", true, &r), VT_ERR_BROKER_BAD_FIELD);
    vtp_request_free(&r);
    CHECK_ERR(parse("{\"command\":\"Get KEK\",\"kids\":[\"../../etc/passwd\"]}", true, &r),
              VT_ERR_BROKER_BAD_PATH);
    vtp_request_free(&r);
    CHECK_ERR(parse("{\"command\":\"rm -rf\"}", true, &r), VT_ERR_BROKER_UNKNOWN_OP);
    vtp_request_free(&r);

    /* replies */
    json_t *id = json_string("q1");
    char *s = vtp_reply_err(id, "r9", VT_ERR_BROKER_REFVAL_MISMATCH,
                            "denied by policy: measurement not in reference values");
    CHECK(s && strstr(s, "\"ok\":false") && strstr(s, "VT_ERR_BROKER_REFVAL_MISMATCH") &&
          strstr(s, "\"category\":\"policy\"") && strstr(s, "\"id\":\"q1\""));
    free(s);
    s = vtp_reply_ok(id, "r9", json_pack("{s:s}", "data", "AAA="));
    CHECK(s && strstr(s, "\"ok\":true") && strstr(s, "\"data\":\"AAA=\""));
    free(s);
    json_decref(id);

    /* bytes: base64 string or number array */
    struct vt_buf b = VT_BUF_INIT;
    json_t *a = json_pack("[i,i,i]", 1, 2, 255);
    CHECK_OK(vtp_json_bytes(a, 16, &b));
    CHECK(b.len == 3 && b.p[2] == 255);
    vti_buf_free(&b);
    json_decref(a);
    a = json_pack("[i]", 256);
    CHECK_ERR(vtp_json_bytes(a, 16, &b), VT_ERR_BROKER_BAD_FIELD);
    json_decref(a);
    a = json_string("AQID");
    CHECK_OK(vtp_json_bytes(a, 16, &b));
    CHECK(b.len == 3 && b.p[0] == 1);
    vti_buf_free(&b);
    json_decref(a);
    a = json_string("AQID!");
    CHECK_ERR(vtp_json_bytes(a, 16, &b), VT_ERR_BAD_BASE64);
    json_decref(a);
}

static const uint8_t mk[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32 };

static bool file_contains(const char *path, const char *needle)
{
    struct vt_buf b = VT_BUF_INIT;
    bool found = false;
    if (!vti_file_read(path, 64 << 20, &b).err)
        found = memmem(b.p, b.len, needle, strlen(needle)) != NULL;
    vti_buf_free(&b);
    return found;
}

static void test_master_key(void)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/mk", vt_test_tmpdir());
    uint8_t key[32];
    CHECK_ERR(vtb_master_key_load(path, key), VT_ERR_NOT_FOUND);
    CHECK_OK(vtb_master_key_generate(path));
    CHECK_ERR(vtb_master_key_generate(path), VT_ERR_BROKER_EXISTS);
    CHECK_OK(vtb_master_key_load(path, key));
    CHECK(chmod(path, 0640) == 0);
    CHECK_ERR(vtb_master_key_load(path, key), VT_ERR_BROKER_MASTER_KEY_PERMS);
    CHECK(chmod(path, 0604) == 0);
    CHECK_ERR(vtb_master_key_load(path, key), VT_ERR_BROKER_MASTER_KEY_PERMS);
    snprintf(path, sizeof(path), "%s/mk-short", vt_test_tmpdir());
    CHECK_OK(vti_file_write(path, "abcd", 4, 0600));
    CHECK_ERR(vtb_master_key_load(path, key), VT_ERR_BROKER_MASTER_KEY_FORMAT);
    snprintf(path, sizeof(path), "%s/mk-raw", vt_test_tmpdir());
    CHECK_OK(vti_file_write(path, mk, 32, 0600));
    CHECK_OK(vtb_master_key_load(path, key));
    CHECK(vti_ct_eq(key, mk, 32));
    /* systemd credentials */
    setenv("CREDENTIALS_DIRECTORY", vt_test_tmpdir(), 1);
    snprintf(path, sizeof(path), "%s/master-key", vt_test_tmpdir());
    CHECK_OK(vti_file_write(path, mk, 32, 0600));
    memset(key, 0, sizeof(key));
    CHECK_OK(vtb_master_key_load(NULL, key));
    CHECK(vti_ct_eq(key, mk, 32));
    unsetenv("CREDENTIALS_DIRECTORY");
    CHECK_ERR(vtb_master_key_load(NULL, key), VT_ERR_BROKER_CONFIG);
    vti_memzero(key, sizeof(key));
}

static void test_kms(void)
{
    char db[512];
    snprintf(db, sizeof(db), "%s/store.db", vt_test_tmpdir());
    struct vtb_kms *k = NULL;
    CHECK_OK(vtb_kms_open(&vtb_store_sqlite, db, mk, &k));
    if (!k)
        return;
    const char *secret = "TOP-SECRET-PLAINTEXT-0123456789";
    CHECK_OK(vtb_kms_put_resource(k, "default/secret/one", (const uint8_t *)secret,
                                  strlen(secret), 100));
    CHECK_ERR(vtb_kms_put_resource(k, "default/../one", (const uint8_t *)"x", 1, 100),
              VT_ERR_BROKER_BAD_PATH);
    char kind[16];
    int64_t ver = 0;
    struct vt_buf out = VT_BUF_INIT;
    CHECK_OK(vtb_kms_get(k, "default/secret/one", 0, kind, &ver, &out));
    CHECK(out.len == strlen(secret) && vti_ct_eq(out.p, secret, out.len) && ver == 1);
    CHECK(strcmp(kind, "resource") == 0);
    vti_buf_free(&out);
    /* replace: new version, old one gone */
    CHECK_OK(vtb_kms_put_resource(k, "default/secret/one", (const uint8_t *)"v2", 2, 101));
    CHECK_OK(vtb_kms_get(k, "default/secret/one", 0, kind, &ver, &out));
    CHECK(out.len == 2 && ver == 2);
    vti_buf_free(&out);
    CHECK_ERR(vtb_kms_get(k, "default/secret/one", 1, kind, &ver, &out),
              VT_ERR_BROKER_UNKNOWN_RESOURCE);
    CHECK_ERR(vtb_kms_get(k, "default/secret/none", 0, kind, &ver, &out),
              VT_ERR_BROKER_UNKNOWN_RESOURCE);
    /* size limit */
    static uint8_t huge[VTP_MAX_SECRET + 1];
    CHECK_OK(vtb_kms_put_resource(k, "default/secret/big", huge, VTP_MAX_SECRET, 102));
    CHECK_ERR(vtb_kms_put_resource(k, "default/secret/big", huge, VTP_MAX_SECRET + 1, 102),
              VT_ERR_BROKER_SECRET_TOO_LARGE);
    CHECK_OK(vtb_kms_delete(k, "default/secret/big"));
    CHECK_ERR(vtb_kms_delete(k, "default/secret/big"), VT_ERR_BROKER_UNKNOWN_RESOURCE);

    /* keys: create, wrap, rotate, unwrap old and new */
    CHECK_OK(vtb_kms_key_create(k, "default/key/img", 100));
    CHECK_ERR(vtb_kms_key_create(k, "default/key/img", 100), VT_ERR_BROKER_EXISTS);
    struct vtp_wrapped w1, w2;
    CHECK_OK(vtb_kms_wrap(k, "default/key/img", (const uint8_t *)"layer-key-1", 11, &w1));
    int64_t nv = 0;
    CHECK_OK(vtb_kms_key_rotate(k, "default/key/img", 103, &nv));
    CHECK(nv == 2);
    CHECK_ERR(vtb_kms_key_rotate(k, "default/secret/one", 103, &nv), VT_ERR_BROKER_NOT_A_KEY);
    CHECK_OK(vtb_kms_wrap(k, "default/key/img", (const uint8_t *)"layer-key-2", 11, &w2));
    CHECK(w1.key_version == 1 && w2.key_version == 2);
    CHECK_OK(vtb_kms_unwrap(k, &w1, &out));
    CHECK(out.len == 11 && vti_ct_eq(out.p, "layer-key-1", 11));
    vti_buf_free(&out);
    CHECK_OK(vtb_kms_unwrap(k, &w2, &out));
    CHECK(out.len == 11 && vti_ct_eq(out.p, "layer-key-2", 11));
    vti_buf_free(&out);
    /* annotation round trip */
    struct vt_buf ann = VT_BUF_INIT;
    CHECK_OK(vtp_wrapped_json(&w2, &ann));
    struct vtp_wrapped w3;
    CHECK_OK(vtp_wrapped_parse(ann.p, ann.len, &w3, why, sizeof(why)));
    CHECK_OK(vtb_kms_unwrap(k, &w3, &out));
    CHECK(out.len == 11);
    vti_buf_free(&out);
    /* a flipped bit fails authentication; a version swap fails (AAD binds the version) */
    w3.ct.p[0] ^= 1;
    CHECK_ERR(vtb_kms_unwrap(k, &w3, &out), VT_ERR_BROKER_UNWRAP_FAILED);
    w3.ct.p[0] ^= 1;
    w3.key_version = 1;
    CHECK_ERR(vtb_kms_unwrap(k, &w3, &out), VT_ERR_BROKER_UNWRAP_FAILED);
    vtp_wrapped_free(&w3);
    vti_buf_free_nowipe(&ann);
    CHECK_ERR(vtb_kms_wrap(k, "default/secret/one", (const uint8_t *)"x", 1, &w3),
              VT_ERR_BROKER_NOT_A_KEY);
    vtp_wrapped_free(&w3);
    /* the store file holds no plaintext */
    CHECK_OK(vtb_kms_put_resource(k, "default/secret/two", (const uint8_t *)secret,
                                  strlen(secret), 104));
    vtb_kms_close(k);
    char wal[600];
    snprintf(wal, sizeof(wal), "%s-wal", db);
    CHECK(!file_contains(db, "TOP-SECRET-PLAINTEXT"));
    CHECK(!file_contains(wal, "TOP-SECRET-PLAINTEXT"));
    CHECK(!file_contains(db, "layer-key"));
    struct stat st;
    CHECK(stat(db, &st) == 0 && (st.st_mode & 077) == 0);
    /* a wrong master key is detected at open */
    uint8_t bad[32];
    memcpy(bad, mk, 32);
    bad[0] ^= 0x80;
    k = NULL;
    CHECK_ERR(vtb_kms_open(&vtb_store_sqlite, db, bad, &k), VT_ERR_BROKER_MASTER_KEY_WRONG);
    /* reopen: everything committed is there */
    CHECK_OK(vtb_kms_open(&vtb_store_sqlite, db, mk, &k));
    if (!k)
        return;
    CHECK_OK(vtb_kms_get(k, "default/secret/two", 0, kind, &ver, &out));
    CHECK(out.len == strlen(secret));
    vti_buf_free(&out);
    CHECK_OK(vtb_kms_unwrap(k, &w1, &out));
    vti_buf_free(&out);
    vtp_wrapped_free(&w1);
    vtp_wrapped_free(&w2);
    /* the audit table is append-only */
    struct vtb_audit a = { .time = 1, .rid = "r1", .peer = "p", .tee = "sim", .op = "get",
                           .path = "default/secret/two", .decision = "release", .reason = "ok" };
    CHECK_OK(vtb_kms_ops(k)->audit_append(vtb_kms_store(k), &a));
    vtb_kms_close(k);
    sqlite3 *raw = NULL;
    CHECK(sqlite3_open(db, &raw) == SQLITE_OK);
    CHECK(sqlite3_exec(raw, "SELECT 1 FROM audit", NULL, NULL, NULL) == SQLITE_OK);
    CHECK(sqlite3_exec(raw, "DELETE FROM audit", NULL, NULL, NULL) != SQLITE_OK);
    CHECK(sqlite3_exec(raw, "UPDATE audit SET decision = 'x'", NULL, NULL, NULL) != SQLITE_OK);
    sqlite3_close(raw);
}

/* Master key rotation: all or nothing (a blob that fails authentication rolls it back). */
static void test_rekey(void)
{
    char db[512];
    snprintf(db, sizeof(db), "%s/rekey.db", vt_test_tmpdir());
    uint8_t nk[32];
    for (size_t i = 0; i < sizeof(nk); i++)
        nk[i] = (uint8_t)(0xa0 + i);
    struct vtb_kms *k = NULL;
    CHECK_OK(vtb_kms_open(&vtb_store_sqlite, db, mk, &k));
    if (!k)
        return;
    const char *names[] = { "r/secret/a", "r/secret/b", "r/secret/c" };
    for (size_t i = 0; i < 3; i++)
        CHECK_OK(vtb_kms_put_resource(k, names[i], (const uint8_t *)names[i], strlen(names[i]),
                                      100));
    CHECK_OK(vtb_kms_key_create(k, "r/key/k", 100));
    struct vtp_wrapped w;
    CHECK_OK(vtb_kms_wrap(k, "r/key/k", (const uint8_t *)"payload", 7, &w));
    size_t n = 0;
    CHECK_ERR(vtb_kms_rekey(k, mk, &n), VT_ERR_INVALID_ARG);
    /* a row that does not authenticate: the whole rotation is rolled back */
    sqlite3 *raw = NULL;
    CHECK(sqlite3_open(db, &raw) == SQLITE_OK);
    CHECK(sqlite3_exec(raw, "INSERT INTO secrets (path, version, kind, blob, created) VALUES "
                            "('r/secret/z', 1, 'resource', zeroblob(48), 1)",
                       NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(raw);
    CHECK_ERR(vtb_kms_rekey(k, nk, &n), VT_ERR_BROKER_STORE_CORRUPT);
    char kind[16];
    int64_t ver = 0;
    struct vt_buf out = VT_BUF_INIT;
    CHECK_OK(vtb_kms_get(k, "r/secret/a", 0, kind, &ver, &out));
    vti_buf_free(&out);
    vtb_kms_close(k);
    k = NULL;
    CHECK_ERR(vtb_kms_open(&vtb_store_sqlite, db, nk, &k), VT_ERR_BROKER_MASTER_KEY_WRONG);
    CHECK_OK(vtb_kms_open(&vtb_store_sqlite, db, mk, &k));
    if (!k)
        return;
    CHECK_OK(vtb_kms_get(k, "r/secret/c", 0, kind, &ver, &out));
    CHECK(out.len == strlen(names[2]) && vti_ct_eq(out.p, names[2], out.len));
    vti_buf_free(&out);
    CHECK_OK(vtb_kms_delete(k, "r/secret/z"));
    CHECK_OK(vtb_kms_rekey(k, nk, &n));
    CHECK(n == 5); /* 3 resources, 1 key, the check value */
    CHECK_OK(vtb_kms_get(k, "r/secret/b", 0, kind, &ver, &out)); /* live handle: new key */
    vti_buf_free(&out);
    vtb_kms_close(k);
    k = NULL;
    CHECK_ERR(vtb_kms_open(&vtb_store_sqlite, db, mk, &k), VT_ERR_BROKER_MASTER_KEY_WRONG);
    CHECK_OK(vtb_kms_open(&vtb_store_sqlite, db, nk, &k));
    if (!k)
        return;
    for (size_t i = 0; i < 3; i++) {
        CHECK_OK(vtb_kms_get(k, names[i], 0, kind, &ver, &out));
        CHECK(out.len == strlen(names[i]) && vti_ct_eq(out.p, names[i], out.len));
        vti_buf_free(&out);
    }
    CHECK_OK(vtb_kms_unwrap(k, &w, &out));
    CHECK(out.len == 7 && vti_ct_eq(out.p, "payload", 7));
    vti_buf_free(&out);
    vtp_wrapped_free(&w);
    vtb_kms_wipe(k);
    CHECK_ERR(vtb_kms_get(k, "r/secret/a", 0, kind, &ver, &out), VT_ERR_BROKER_STORE_CORRUPT);
    vti_buf_free(&out);
    vtb_kms_close(k);
}

/* ---- policy ---------------------------------------------------------------------------- */

static const char *policy_doc =
    "{\"version\":1,\"rules\":["
    " {\"name\":\"app\",\"resources\":[\"default/key/*\"],\"tee\":[\"sim\",\"tdx\"],"
    "  \"reference\":[\"measurement\"],\"claims\":{\"debug\":false}},"
    " {\"name\":\"strict\",\"resources\":[\"prod/key/*\"],\"tcb_status\":[\"UpToDate\"],"
    "  \"reference\":[\"mr_td\"]}]}";

static void test_policy(void)
{
    CHECK_OK(vtb_policy_check(policy_doc, why, sizeof(why)));
    CHECK_ERR(vtb_policy_check("{\"version\":2,\"rules\":[]}", why, sizeof(why)),
              VT_ERR_BROKER_BAD_POLICY);
    CHECK_ERR(vtb_policy_check("{\"version\":1,\"rules\":[{\"resources\":[\"a/b/c\"],"
                               "\"allow_all\":true}]}", why, sizeof(why)),
              VT_ERR_BROKER_BAD_POLICY);
    CHECK(strstr(why, "unknown key 'allow_all'") != NULL);
    CHECK_ERR(vtb_policy_check("{\"version\":1,\"rules\":[{\"resources\":[\"a/../c\"]}]}", why,
                               sizeof(why)), VT_ERR_BROKER_BAD_POLICY);
    CHECK_ERR(vtb_policy_check("{\"version\":1,\"rules\":[{\"name\":\"x\"}]}", why, sizeof(why)),
              VT_ERR_BROKER_BAD_POLICY);
    CHECK_ERR(vtb_policy_check("not json", why, sizeof(why)), VT_ERR_BROKER_BAD_POLICY);

    struct vtb_refval rv[] = {
        { .id = 1, .name = "measurement", .value = "aabb", .source = "build 1", .expires = 0 },
        { .id = 2, .name = "measurement", .value = "ccdd", .source = "old build", .expires = 1000 },
        { .id = 3, .name = "mr_td", .value = "0102", .source = "", .expires = 0 },
    };
    struct vtb_snapshot *s = NULL;
    CHECK_OK(vtb_snapshot_new(policy_doc, rv, 3, &s));
    if (!s)
        return;
    struct vtb_claim_str c_ok[] = { { "measurement", "AABB" }, { "debug", "false" } };
    struct vtb_input in = { .tee = "sim", .claims = c_ok, .n_claims = 2 };
    char rule[64];
    CHECK_OK(vtb_appraise(s, &in, "default/key/1", 500, rule, why, sizeof(why)));
    CHECK(strcmp(rule, "app") == 0);
    CHECK_ERR(vtb_appraise(s, &in, "other/key/1", 500, rule, why, sizeof(why)),
              VT_ERR_BROKER_NO_RULE);
    CHECK(strcmp(why, "denied by policy: no rule grants other/key/1") == 0);
    struct vtb_claim_str c_bad[] = { { "measurement", "eeee" }, { "debug", "false" } };
    in.claims = c_bad;
    CHECK_ERR(vtb_appraise(s, &in, "default/key/1", 500, rule, why, sizeof(why)),
              VT_ERR_BROKER_REFVAL_MISMATCH);
    CHECK(strcmp(why, "denied by policy: measurement not in reference values") == 0);
    struct vtb_claim_str c_exp[] = { { "measurement", "ccdd" }, { "debug", "false" } };
    in.claims = c_exp;
    CHECK_OK(vtb_appraise(s, &in, "default/key/1", 999, rule, why, sizeof(why)));
    CHECK_ERR(vtb_appraise(s, &in, "default/key/1", 1000, rule, why, sizeof(why)),
              VT_ERR_BROKER_REFVAL_EXPIRED);
    CHECK(strstr(why, "expired at 1970-01-01T00:16:40Z") != NULL);
    struct vtb_claim_str c_dbg[] = { { "measurement", "aabb" }, { "debug", "true" } };
    in.claims = c_dbg;
    CHECK_ERR(vtb_appraise(s, &in, "default/key/1", 500, rule, why, sizeof(why)),
              VT_ERR_BROKER_CLAIM_MISMATCH);
    in.claims = c_ok;
    in.n_claims = 1; /* debug claim absent */
    CHECK_ERR(vtb_appraise(s, &in, "default/key/1", 500, rule, why, sizeof(why)),
              VT_ERR_BROKER_CLAIM_MISSING);
    in.n_claims = 2;
    in.tee = "snp";
    CHECK_ERR(vtb_appraise(s, &in, "default/key/1", 500, rule, why, sizeof(why)),
              VT_ERR_BROKER_TEE_NOT_ALLOWED);
    /* TCB status */
    struct vtb_claim_str c_td[] = { { "mr_td", "0102" }, { "debug", "false" } };
    struct vtb_input td = { .tee = "tdx", .tcb_status = "UpToDate", .claims = c_td, .n_claims = 2 };
    CHECK_OK(vtb_appraise(s, &td, "prod/key/a", 500, rule, why, sizeof(why)));
    td.tcb_status = "OutOfDate";
    CHECK_ERR(vtb_appraise(s, &td, "prod/key/a", 500, rule, why, sizeof(why)),
              VT_ERR_BROKER_TCB_NOT_ACCEPTED);
    CHECK(strcmp(why, "denied by policy: TCB status OutOfDate not accepted (accepted: UpToDate)") == 0);
    /* the unexpired values of one name, comma-joined (the KBS's pinned TPM AKs) */
    char joined[16];
    CHECK(vtb_snapshot_refval_join(s, "measurement", 500, joined, sizeof(joined)) == 2);
    CHECK(strcmp(joined, "aabb,ccdd") == 0);
    CHECK(vtb_snapshot_refval_join(s, "measurement", 1000, joined, sizeof(joined)) == 1);
    CHECK(strcmp(joined, "aabb") == 0);
    CHECK(vtb_snapshot_refval_join(s, "measurement", 500, joined, 9) == 1); /* ccdd does not fit */
    CHECK(strcmp(joined, "aabb") == 0);
    CHECK(vtb_snapshot_refval_join(s, "tpm.ak_sha256", 500, joined, sizeof(joined)) == 0);
    CHECK(joined[0] == 0);
    td.tcb_status = NULL; /* listed statuses only: "none" not listed */
    CHECK_ERR(vtb_appraise(s, &td, "prod/key/a", 500, rule, why, sizeof(why)),
              VT_ERR_BROKER_TCB_NOT_ACCEPTED);
    /* rule without tcb_status: OutOfDate refused by default */
    in.tee = "sim";
    in.tcb_status = "OutOfDate";
    CHECK_ERR(vtb_appraise(s, &in, "default/key/1", 500, rule, why, sizeof(why)),
              VT_ERR_BROKER_TCB_NOT_ACCEPTED);
    vtb_snapshot_unref(s);
    /* default deny: no policy */
    s = NULL;
    CHECK_OK(vtb_snapshot_new(NULL, NULL, 0, &s));
    in.tcb_status = NULL;
    CHECK_ERR(vtb_appraise(s, &in, "default/key/1", 500, rule, why, sizeof(why)),
              VT_ERR_BROKER_NO_RULE);
    vtb_snapshot_unref(s);

    char out[64];
    CHECK_OK(vtb_refval_normalize("measurement", "AbCd", out, sizeof(out)));
    CHECK(strcmp(out, "abcd") == 0);
    CHECK_OK(vtb_refval_normalize("svn", "Version-X", out, sizeof(out)));
    CHECK(strcmp(out, "Version-X") == 0);
    CHECK_ERR(vtb_refval_normalize("bad name", "aa", out, sizeof(out)), VT_ERR_BROKER_BAD_REFVAL);
    CHECK_ERR(vtb_refval_normalize("m", "", out, sizeof(out)), VT_ERR_BROKER_BAD_REFVAL);
}

/* Debug TEEs: refused unless the matching rule says "debug": true (issue 18.2). */
static const char debug_doc[] =
    "{\"version\":1,\"rules\":["
    " {\"name\":\"plain\",\"resources\":[\"a/key/*\"]},"
    " {\"name\":\"dbg\",\"resources\":[\"b/key/*\"],\"debug\":true},"
    " {\"name\":\"nodbg\",\"resources\":[\"c/key/*\"],\"debug\":false},"
    " {\"name\":\"asks\",\"resources\":[\"d/key/*\"],\"claims\":{\"debug\":true}},"
    " {\"resources\":[\"e/key/*\"]}]}";

static void test_policy_debug(void)
{
    CHECK_ERR(vtb_policy_check("{\"version\":1,\"rules\":[{\"resources\":[\"a/b/c\"],"
                               "\"debug\":\"yes\"}]}", why, sizeof(why)),
              VT_ERR_BROKER_BAD_POLICY);
    CHECK(strstr(why, "'debug' must be true or false") != NULL);
    struct vtb_snapshot *s = NULL;
    CHECK_OK(vtb_snapshot_new(debug_doc, NULL, 0, &s));
    if (!s)
        return;
    struct vtb_claim_str c_dbg[] = { { "debug", "true" } }, c_nd[] = { { "debug", "false" } };
    struct vtb_input in = { .tee = "tdx", .tcb_status = "UpToDate", .claims = c_dbg, .n_claims = 1 };
    char rule[64];
    CHECK_ERR(vtb_appraise(s, &in, "a/key/1", 500, rule, why, sizeof(why)),
              VT_ERR_BROKER_DEBUG_REFUSED);
    CHECK(strcmp(why, "denied by policy: debug TEE refused: rule plain does not allow debug") == 0);
    CHECK_ERR(vtb_appraise(s, &in, "e/key/1", 500, rule, why, sizeof(why)),
              VT_ERR_BROKER_DEBUG_REFUSED);
    CHECK(strcmp(why, "denied by policy: debug TEE refused: rule #5 does not allow debug") == 0);
    CHECK_ERR(vtb_appraise(s, &in, "c/key/1", 500, rule, why, sizeof(why)),
              VT_ERR_BROKER_DEBUG_REFUSED);
    CHECK(strcmp(why, "denied by policy: debug TEE refused: rule nodbg does not allow debug") == 0);
    CHECK_OK(vtb_appraise(s, &in, "b/key/1", 500, rule, why, sizeof(why)));
    CHECK(strcmp(rule, "dbg") == 0);
    CHECK_OK(vtb_appraise(s, &in, "d/key/1", 500, rule, why, sizeof(why)));
    in.tee = "snp";
    CHECK_ERR(vtb_appraise(s, &in, "a/key/1", 500, rule, why, sizeof(why)),
              VT_ERR_BROKER_DEBUG_REFUSED);
    in.tee = "sim"; /* any TEE reporting debug */
    CHECK_ERR(vtb_appraise(s, &in, "a/key/1", 500, rule, why, sizeof(why)),
              VT_ERR_BROKER_DEBUG_REFUSED);
    struct vtb_claim_str c_odd[] = { { "debug", "1" } }; /* not "false": debug */
    in.claims = c_odd;
    CHECK_ERR(vtb_appraise(s, &in, "a/key/1", 500, rule, why, sizeof(why)),
              VT_ERR_BROKER_DEBUG_REFUSED);
    /* not debug: every rule releases (the "debug": true rule too) */
    in.claims = c_nd;
    in.tee = "sgx";
    CHECK_OK(vtb_appraise(s, &in, "a/key/1", 500, rule, why, sizeof(why)));
    CHECK_OK(vtb_appraise(s, &in, "b/key/1", 500, rule, why, sizeof(why)));
    CHECK_OK(vtb_appraise(s, &in, "c/key/1", 500, rule, why, sizeof(why)));
    /* absent: refused where the verifier always reports it, not debug elsewhere */
    in.n_claims = 0;
    const char *const with[] = { "sgx", "tdx", "snp" };
    for (size_t i = 0; i < 3; i++) {
        in.tee = with[i];
        CHECK_ERR(vtb_appraise(s, &in, "b/key/1", 500, rule, why, sizeof(why)),
                  VT_ERR_BROKER_CLAIM_MISSING);
        CHECK(strcmp(why, "denied by policy: claim debug missing from the evidence") == 0);
    }
    in.tee = "sim";
    CHECK_OK(vtb_appraise(s, &in, "a/key/1", 500, rule, why, sizeof(why)));
    in.tee = "null";
    CHECK_OK(vtb_appraise(s, &in, "a/key/1", 500, rule, why, sizeof(why)));
    vtb_snapshot_unref(s);
}

int main(void)
{
    test_paths();
    test_requests();
    test_master_key();
    test_kms();
    test_rekey();
    test_policy();
    test_policy_debug();
    return vt_test_done();
}
