/* SPDX-License-Identifier: Apache-2.0 */
/*
 * proto_test.c - src/proto: frames at the length cap and one past it (memory transport and a
 * socket pair), JSON depth 8 / 9, duplicate keys, NUL, byte fields (cap exactly / +1, base64
 * and number arrays, non-byte values), resource paths (every refusal), HOST:PORT (good and bad
 * forms, listen on port 0, connect), key-provider messages and wrapped-key annotations.
 * Every refusal asserts its exact VT_ERR_* code.
 */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto/proto.h"
#include "util/codec.h"
#include "vt_test.h"

/* ---- frames ------------------------------------------------------------------------------ */

struct memio {
    const uint8_t *in;
    size_t in_len, off;
    struct vt_buf out;
};

static int mem_read(void *arg, void *p, size_t n, size_t *got)
{
    struct memio *m = arg;
    size_t k = m->in_len - m->off < n ? m->in_len - m->off : n;
    if (k > 3)
        k = 3; /* short reads: the reader must loop */
    memcpy(p, m->in + m->off, k);
    m->off += k;
    *got = k;
    return 0;
}

static int mem_write(void *arg, const void *p, size_t n)
{
    struct memio *m = arg;
    return vti_buf_append(&m->out, p, n).err;
}

static vt_res read_one(const uint8_t *in, size_t n, size_t max, struct vt_buf *out, uint32_t *len)
{
    struct memio m = { .in = in, .in_len = n };
    struct vtp_io io = { .read = mem_read, .write = mem_write, .arg = &m };
    return vtp_frame_read(&io, max, out, len);
}

static void test_frames(void)
{
    uint8_t h[4];
    vtp_frame_hdr(0x01020304, h);
    CHECK(h[0] == 1 && h[1] == 2 && h[2] == 3 && h[3] == 4);
    CHECK(vtp_frame_len(h) == 0x01020304);

    uint8_t buf[4 + 17];
    memset(buf + 4, 'a', 17);
    struct vt_buf out = VT_BUF_INIT;
    uint32_t len = 0;
    vtp_frame_hdr(16, buf); /* at the cap */
    CHECK_OK(read_one(buf, 20, 16, &out, &len));
    CHECK(out.len == 16 && len == 16 && out.p[16] == 0 && out.p[15] == 'a');
    vti_buf_free(&out);
    vtp_frame_hdr(17, buf); /* one past it: refused before reading the body */
    CHECK_ERR(read_one(buf, 21, 16, &out, &len), VT_ERR_BROKER_REQUEST_TOO_LARGE);
    CHECK(len == 17 && out.len == 0);
    vtp_frame_hdr(0, buf);
    CHECK_ERR(read_one(buf, 4, 16, &out, &len), VT_ERR_BROKER_REQUEST_TOO_LARGE);
    vtp_frame_hdr(0xffffffffu, buf);
    CHECK_ERR(read_one(buf, 21, VTP_MAX_REPLY, &out, &len), VT_ERR_BROKER_REQUEST_TOO_LARGE);
    vtp_frame_hdr(16, buf);
    CHECK_ERR(read_one(buf, 19, 16, &out, NULL), VT_ERR_CLOSED); /* body truncated */
    vti_buf_free(&out);
    CHECK_ERR(read_one(buf, 3, 16, &out, NULL), VT_ERR_CLOSED); /* header truncated */
    vti_buf_free(&out);

    struct memio m = { 0 };
    struct vtp_io io = { .read = mem_read, .write = mem_write, .arg = &m };
    CHECK_OK(vtp_frame_write(&io, "0123456789abcdef", 16, 16)); /* at the cap */
    CHECK(m.out.len == 20 && vtp_frame_len(m.out.p) == 16 && !memcmp(m.out.p + 4, "0123", 4));
    CHECK_ERR(vtp_frame_write(&io, "0123456789abcdefg", 17, 16), VT_ERR_TOO_LARGE);
    CHECK(m.out.len == 20);
    vti_buf_free(&m.out);

    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    CHECK_OK(vtp_sock_write_frame(sv[0], "{\"id\":1}"));
    CHECK_OK(vtp_sock_read_frame(sv[1], 8, &out));
    CHECK(out.len == 8 && !strcmp((char *)out.p, "{\"id\":1}"));
    vti_buf_free(&out);
    CHECK_OK(vtp_sock_write_frame(sv[0], "123456789"));
    CHECK_ERR(vtp_sock_read_frame(sv[1], 8, &out), VT_ERR_BROKER_REQUEST_TOO_LARGE);
    vti_buf_free(&out);
    close(sv[0]);
    close(sv[1]);
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    close(sv[0]);
    CHECK_ERR(vtp_sock_read_frame(sv[1], 8, &out), VT_ERR_CLOSED);
    CHECK_ERR(vtp_sock_write_frame(sv[1], "x"), VT_ERR_IO);
    vti_buf_free(&out);
    close(sv[1]);
}

/* ---- JSON -------------------------------------------------------------------------------- */

static vt_res load(const char *s, size_t *pos)
{
    json_t *j = NULL;
    vt_res r = vtp_json_load((const uint8_t *)s, strlen(s), &j, pos);
    CHECK((r.err == 0) == (j != NULL));
    json_decref(j);
    return r;
}

/* depth levels of arrays, or of objects {"a":...} when obj */
static void nest(char *out, int depth, bool obj)
{
    size_t k = 0;
    for (int i = 0; i < depth; i++) {
        const char *o = obj ? "{\"a\":" : "[";
        memcpy(out + k, o, strlen(o));
        k += strlen(o);
    }
    out[k++] = '1';
    for (int i = 0; i < depth; i++)
        out[k++] = obj ? '}' : ']';
    out[k] = 0;
}

static void test_json(void)
{
    char doc[128], why[160];
    size_t pos = 0;
    nest(doc, VTP_JSON_MAX_DEPTH, false); /* at the cap */
    CHECK_OK(load(doc, NULL));
    nest(doc, VTP_JSON_MAX_DEPTH + 1, false); /* one past it */
    CHECK_ERR(load(doc, NULL), VT_ERR_PROTO_JSON_DEPTH);
    nest(doc, VTP_JSON_MAX_DEPTH, true);
    CHECK_OK(load(doc, NULL));
    nest(doc, VTP_JSON_MAX_DEPTH + 1, true);
    CHECK_ERR(load(doc, NULL), VT_ERR_PROTO_JSON_DEPTH);
    CHECK(!vtp_json_parse((const uint8_t *)doc, strlen(doc), why, sizeof(why)));
    CHECK(!strcmp(why, "malformed request: JSON nested deeper than 8"));

    CHECK_ERR(load("{\"a\":1,\"a\":2}", &pos), VT_ERR_PROTO_JSON_DUP_KEY);
    CHECK_ERR(load("{\"b\":{\"a\":1,\"a\":1}}", NULL), VT_ERR_PROTO_JSON_DUP_KEY);
    CHECK_OK(load("{\"a\":1,\"b\":{\"a\":2}}", NULL)); /* same key, different objects */
    CHECK(!vtp_json_parse((const uint8_t *)"{\"a\":1,\"a\":2}", 13, why, sizeof(why)));
    CHECK(!strncmp(why, "malformed request: invalid JSON at byte ", 40));
    CHECK_ERR(load("{\"a\":\"x\\u0000y\"}", NULL), VT_ERR_PROTO_JSON_NUL);
    CHECK_ERR(load("{\"a\\u0000\":1}", NULL), VT_ERR_PROTO_JSON_NUL);
    CHECK_ERR(vtp_json_load((const uint8_t *)"{\"a\":\"x\0\"}", 10, &(json_t *){ NULL }, NULL),
              VT_ERR_JSON); /* a raw NUL byte is a control character */
    CHECK_ERR(load("{\"a\":", &pos), VT_ERR_JSON);
    CHECK(pos == 5);
    CHECK_ERR(load("", NULL), VT_ERR_JSON);
}

static vt_res bytes(const char *json, size_t max, struct vt_buf *out)
{
    json_t *v = json_loads(json, JSON_DECODE_ANY, NULL);
    CHECK(v != NULL);
    vt_res r = vtp_json_bytes(v, max, out);
    json_decref(v);
    return r;
}

static void test_bytes(void)
{
    struct vt_buf b = VT_BUF_INIT;
    /* base64 of 12 bytes, at the cap and one past it; padding optional */
    CHECK_OK(bytes("\"AAECAwQFBgcICQoL\"", 12, &b));
    CHECK(b.len == 12 && b.p[11] == 11);
    vti_buf_free(&b);
    CHECK_ERR(bytes("\"AAECAwQFBgcICQoLDA==\"", 12, &b), VT_ERR_TOO_LARGE);
    CHECK(b.len == 0);
    CHECK_OK(bytes("\"AAECAwQFBgcICQoLDA\"", 13, &b));
    CHECK(b.len == 13);
    vti_buf_free(&b);
    /* a long string is refused before it is decoded */
    CHECK_ERR(bytes("\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"", 12, &b), VT_ERR_TOO_LARGE);
    CHECK_ERR(bytes("\"!!!!\"", 12, &b), VT_ERR_BAD_BASE64);
    /* number arrays, at the cap and one past it */
    CHECK_OK(bytes("[0,1,2,255]", 4, &b));
    CHECK(b.len == 4 && b.p[3] == 255);
    vti_buf_free(&b);
    CHECK_ERR(bytes("[0,1,2,255,4]", 4, &b), VT_ERR_TOO_LARGE);
    CHECK_OK(bytes("[]", 4, &b));
    CHECK(b.len == 0);
    vti_buf_free(&b);
    /* values that are not bytes */
    CHECK_ERR(bytes("[256]", 4, &b), VT_ERR_BROKER_BAD_FIELD);
    CHECK_ERR(bytes("[-1]", 4, &b), VT_ERR_BROKER_BAD_FIELD);
    CHECK_ERR(bytes("[1.5]", 4, &b), VT_ERR_BROKER_BAD_FIELD);
    CHECK_ERR(bytes("[\"1\"]", 4, &b), VT_ERR_BROKER_BAD_FIELD);
    CHECK_ERR(bytes("[true]", 4, &b), VT_ERR_BROKER_BAD_FIELD);
    CHECK_ERR(bytes("{\"a\":1}", 4, &b), VT_ERR_BROKER_BAD_FIELD);
    CHECK_ERR(bytes("12", 4, &b), VT_ERR_BROKER_BAD_FIELD);
    CHECK_ERR(bytes("null", 4, &b), VT_ERR_BROKER_BAD_FIELD);
    CHECK_ERR(vtp_json_bytes(NULL, 4, &b), VT_ERR_BROKER_BAD_FIELD);
    CHECK(b.len == 0 && b.p == NULL);
    /* encoders */
    const uint8_t raw[3] = { 0, 128, 255 };
    json_t *a = vtp_json_byte_array(raw, 3), *s = vtp_json_b64(raw, 3);
    CHECK(json_array_size(a) == 3 && json_integer_value(json_array_get(a, 2)) == 255);
    CHECK(!strcmp(json_string_value(s), "AID/"));
    CHECK_OK(vtp_json_bytes(s, 3, &b));
    CHECK(b.len == 3 && !memcmp(b.p, raw, 3));
    vti_buf_free(&b);
    json_decref(a);
    json_decref(s);
}

/* ---- paths ------------------------------------------------------------------------------- */

static void test_paths(void)
{
    char out[VTP_MAX_PATH + 1], seg64[65], long_path[VTP_MAX_PATH + 2];
    CHECK_OK(vtp_path_check("a/b/c"));
    CHECK_OK(vtp_path_check("default-1/key_2/v1.0"));
    memset(seg64, 'x', 64);
    seg64[64] = 0;
    char p[256];
    snprintf(p, sizeof(p), "a/%s/c", seg64); /* a segment at the cap */
    CHECK_OK(vtp_path_check(p));
    snprintf(p, sizeof(p), "a/%sx/c", seg64); /* one past it */
    CHECK_ERR(vtp_path_check(p), VT_ERR_BROKER_BAD_PATH);
    /* the longest well-formed path (194 characters; VTP_MAX_PATH leaves room for the
     * "kbs:///" prefix) */
    snprintf(long_path, sizeof(long_path), "%s/%s/%s", seg64, seg64, seg64);
    CHECK_OK(vtp_path_check(long_path));
    static const char *const bad[] = {
        "", "a/b", "ab/c", "a/b/c/d", "a//c", "/a/b/c", "a/b/c/", "./b/c", "a/../c", "a/b/..",
        "a/b/c d", "a/*/c", "a/b/c\n", "a\\b/c", "a/b/%2e", "a/b/ü",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_ERR(vtp_path_check(bad[i]), VT_ERR_BROKER_BAD_PATH);
    CHECK_ERR(vtp_path_check(NULL), VT_ERR_BROKER_BAD_PATH);
    char big[VTP_MAX_PATH + 2];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    big[60] = big[120] = '/'; /* 201 characters: above VTP_MAX_PATH */
    CHECK_ERR(vtp_path_check(big), VT_ERR_BROKER_BAD_PATH);
    CHECK_OK(vtp_path_normalize("kbs:///a/b/c", out));
    CHECK(!strcmp(out, "a/b/c"));
    CHECK_OK(vtp_path_normalize("/a/b/c", out));
    CHECK(!strcmp(out, "a/b/c"));
    CHECK_ERR(vtp_path_normalize("//a/b/c", out), VT_ERR_BROKER_BAD_PATH);
    CHECK_ERR(vtp_path_normalize("kbs://a/b/c", out), VT_ERR_BROKER_BAD_PATH);
    CHECK_ERR(vtp_path_normalize(NULL, out), VT_ERR_BROKER_BAD_PATH);
    CHECK(vtp_path_match("default/*/img-*", "default/key/img-1"));
    CHECK(vtp_path_match("default/*/img-*", "default/key/img-"));
    CHECK(!vtp_path_match("default/*/img-*", "default/key/im"));
    CHECK(!vtp_path_match("default/*", "default/key/x"));
    CHECK(!vtp_path_match(NULL, "a/b/c"));
}

/* ---- HOST:PORT --------------------------------------------------------------------------- */

static void test_hostport(void)
{
    struct vtp_hostport hp;
    CHECK_OK(vtp_hostport_parse("127.0.0.1:8443", &hp));
    CHECK(!strcmp(hp.host, "127.0.0.1") && hp.port == 8443 && !hp.bracketed);
    CHECK_OK(vtp_hostport_parse("broker.example_1-a:65535", &hp));
    CHECK(hp.port == 65535);
    CHECK_OK(vtp_hostport_parse("[::1]:443", &hp));
    CHECK(!strcmp(hp.host, "::1") && hp.port == 443 && hp.bracketed);
    CHECK_OK(vtp_hostport_parse("[fe80::1%eth0]:0", &hp));
    CHECK(!strcmp(hp.host, "fe80::1%eth0") && hp.port == 0);
    CHECK_OK(vtp_hostport_parse(":8443", &hp)); /* any interface */
    CHECK(hp.host[0] == 0 && hp.port == 8443);
    struct { const char *in; int err; } bad[] = {
        { "localhost", VT_ERR_PROTO_ADDR },      { "::1:443", VT_ERR_PROTO_ADDR },
        { "[::1]443", VT_ERR_PROTO_ADDR },       { "[::1:443", VT_ERR_PROTO_ADDR },
        { "::1]:443", VT_ERR_PROTO_ADDR },       { "[[::1]]:443", VT_ERR_PROTO_ADDR },
        { "a]:1", VT_ERR_PROTO_ADDR },           { "host:", VT_ERR_PROTO_ADDR_PORT },
        { "host:65536", VT_ERR_PROTO_ADDR_PORT }, { "host:123456", VT_ERR_PROTO_ADDR_PORT },
        { "host:12a", VT_ERR_PROTO_ADDR_PORT },  { "host:-1", VT_ERR_PROTO_ADDR_PORT },
        { "host: 1", VT_ERR_PROTO_ADDR_PORT },   { "host:https", VT_ERR_PROTO_ADDR_PORT },
        { "bad host:1", VT_ERR_PROTO_ADDR_HOST }, { "h/st:1", VT_ERR_PROTO_ADDR_HOST },
        { "[1.2.3.4]:80", VT_ERR_PROTO_ADDR_HOST }, { "[]:1", VT_ERR_PROTO_ADDR_HOST },
        { "[fe80::1%]:1", VT_ERR_PROTO_ADDR_HOST }, { "[zz::1]:1", VT_ERR_PROTO_ADDR_HOST },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_ERR(vtp_hostport_parse(bad[i].in, &hp), bad[i].err);
        CHECK(hp.host[0] == 0 && hp.port == 0);
    }
    CHECK_ERR(vtp_hostport_parse(NULL, &hp), VT_ERR_PROTO_ADDR);
    char host[VTP_MAX_HOST + 8];
    memset(host, 'h', VTP_MAX_HOST);
    memcpy(host + VTP_MAX_HOST, ":1", 3); /* a host at the cap */
    CHECK_OK(vtp_hostport_parse(host, &hp));
    memset(host, 'h', VTP_MAX_HOST + 1);
    memcpy(host + VTP_MAX_HOST + 1, ":1", 3); /* one past it */
    CHECK_ERR(vtp_hostport_parse(host, &hp), VT_ERR_PROTO_ADDR_HOST);

    /* listen on port 0: the chosen port is reported; connect to it */
    int lfd = -1, cfd = -1;
    char shown[64], why[160];
    CHECK_OK(vtp_tcp_listen("127.0.0.1:0", &lfd, shown, sizeof(shown), why, sizeof(why)));
    CHECK(lfd >= 0 && !strncmp(shown, "127.0.0.1:", 10) && strcmp(shown, "127.0.0.1:0") != 0);
    CHECK_OK(vtp_tcp_connect(shown, 5, &cfd, why, sizeof(why)));
    CHECK(cfd >= 0);
    if (cfd >= 0)
        close(cfd);
    if (lfd >= 0)
        close(lfd);
    CHECK_ERR(vtp_tcp_connect(":8443", 5, &cfd, why, sizeof(why)), VT_ERR_PROTO_ADDR);
    CHECK_ERR(vtp_tcp_connect("127.0.0.1:0", 5, &cfd, why, sizeof(why)), VT_ERR_PROTO_ADDR_PORT);
    CHECK(cfd == -1);
    CHECK_ERR(vtp_tcp_listen("127.0.0.1:x", &lfd, NULL, 0, NULL, 0), VT_ERR_PROTO_ADDR_PORT);
    CHECK_ERR(vtp_tcp_listen("192.0.2.1:0", &lfd, NULL, 0, why, sizeof(why)), VT_ERR_PROTO_LISTEN);
    CHECK(lfd == -1);
}

/* ---- key provider and wrapped keys ------------------------------------------------------- */

static vt_res kp(const char *json, enum vtp_kp_op want, struct vtp_kp_request *q, char *why)
{
    return vtp_kp_parse((const uint8_t *)json, strlen(json), want, "veritee", q, why, 200);
}

static void test_keyprovider(void)
{
    struct vtp_kp_request q;
    char why[200];
    CHECK_OK(kp("{\"op\":\"keywrap\",\"keywrapparams\":{\"ec\":{\"Parameters\":{\"veritee\":"
                "[\"cHJvdmlkZXI6dmVyaXRlZTpkZWZhdWx0L2tleS9r\"]}},\"optsdata\":[1,2,3]}}",
                VTP_KP_KEYWRAP, &q, why));
    CHECK(q.op == VTP_KP_KEYWRAP && q.optsdata.len == 3 && q.param.len > 0);
    char kid[VTP_KP_MAX_PARAM + 1];
    vtp_kp_param_kid(&q.param, "veritee", kid, sizeof(kid));
    CHECK(!strcmp(kid, "default/key/k")); /* "provider:veritee:" removed */
    vtp_kp_free(&q);
    CHECK_OK(kp("{\"op\":\"keywrap\",\"keywrapparams\":{\"optsdata\":\"AQID\"}}", VTP_KP_KEYWRAP,
                &q, why));
    CHECK(q.param.len == 0); /* no parameter: the caller names the key */
    vtp_kp_free(&q);
    /* an empty parameter (found by keyprovider_fuzz under UBSan) is no parameter */
    CHECK_OK(kp("{\"op\":\"keywrap\",\"keywrapparams\":{\"ec\":{\"Parameters\":{\"veritee\":"
                "[[]]}},\"optsdata\":[1,2,3]}}", VTP_KP_KEYWRAP, &q, why));
    CHECK(q.param.len == 0 && q.optsdata.len == 3);
    vtp_kp_free(&q);
    CHECK_OK(kp("{\"op\":\"keyunwrap\",\"keyunwrapparams\":{\"annotation\":[123,125]}}",
                VTP_KP_KEYUNWRAP, &q, why));
    CHECK(q.annotation.len == 2 && q.annotation.p[0] == '{');
    vtp_kp_free(&q);
    /* issue 18.8: duplicate keys are refused, never "last one wins" */
    CHECK_ERR(kp("{\"op\":\"keyunwrap\",\"op\":\"keywrap\",\"keywrapparams\":{\"optsdata\":[1]}}",
                 VTP_KP_KEYWRAP, &q, why), VT_ERR_PROTO_JSON_DUP_KEY);
    CHECK(!strncmp(why, "malformed request: duplicate key in a JSON object", 49));
    CHECK(q.optsdata.len == 0);
    CHECK_ERR(kp("{\"op\":\"keyunwrap\",\"keyunwrapparams\":{\"annotation\":[1],\"annotation\":[2]}}",
                 VTP_KP_KEYUNWRAP, &q, why), VT_ERR_PROTO_JSON_DUP_KEY);
    CHECK_ERR(kp("{\"op\":\"keyunwrap\"}", VTP_KP_KEYWRAP, &q, why), VT_ERR_BROKER_UNKNOWN_OP);
    CHECK_ERR(kp("{\"x\":1}", VTP_KP_KEYUNWRAP, &q, why), VT_ERR_BROKER_UNKNOWN_OP);
    CHECK_ERR(kp("[1]", VTP_KP_KEYWRAP, &q, why), VT_ERR_BROKER_MALFORMED_REQUEST);
    CHECK_ERR(kp("{\"op\":", VTP_KP_KEYWRAP, &q, why), VT_ERR_JSON);
    CHECK_ERR(kp("{\"op\":\"keywrap\",\"keywrapparams\":{\"optsdata\":[]}}", VTP_KP_KEYWRAP, &q,
                 why), VT_ERR_BROKER_BAD_FIELD);
    CHECK(!strcmp(why, "keywrapparams.optsdata missing or malformed"));
    CHECK_ERR(kp("{\"op\":\"keywrap\"}", VTP_KP_KEYWRAP, &q, why), VT_ERR_BROKER_BAD_FIELD);
    CHECK_ERR(kp("{\"op\":\"keyunwrap\",\"keyunwrapparams\":{\"annotation\":[256]}}",
                 VTP_KP_KEYUNWRAP, &q, why), VT_ERR_BROKER_BAD_FIELD);
    CHECK(!strcmp(why, "keyunwrapparams.annotation missing or malformed"));
    CHECK_ERR(vtp_kp_parse((const uint8_t *)"{}", VTP_KP_MAX_REQUEST + 1, VTP_KP_KEYWRAP, NULL,
                           &q, why, sizeof(why)), VT_ERR_TOO_LARGE);
    char *txt = vtp_kp_reply_unwrap((const uint8_t *)"ab", 2);
    CHECK(txt && !strcmp(txt, "{\"keyunwrapresults\":{\"optsdata\":[97,98]}}"));
    free(txt);
    txt = vtp_kp_reply_wrap((const uint8_t *)"{", 1);
    CHECK(txt && !strcmp(txt, "{\"keywrapresults\":{\"annotation\":[123]}}"));
    free(txt);
}

static void test_wrapped(void)
{
    struct vtp_wrapped w = { .key_version = 3 }, w2;
    char why[200];
    memcpy(w.kid, "default/key/k", 14);
    memset(w.iv, 7, sizeof(w.iv));
    CHECK_OK(vti_buf_zeros(&w.ct, 32));
    struct vt_buf j = VT_BUF_INIT;
    CHECK_OK(vtp_wrapped_json(&w, &j));
    CHECK_OK(vtp_wrapped_parse(j.p, j.len, &w2, why, sizeof(why)));
    CHECK(w2.key_version == 3 && !strcmp(w2.kid, "default/key/k") && w2.ct.len == 32 &&
          w2.iv[11] == 7);
    vtp_wrapped_free(&w2);
    vti_buf_free(&j);
    vtp_wrapped_free(&w);
    static const char *const bad[] = {
        "{\"kid\":\"a/b/c\",\"kid\":\"a/b/d\",\"key_version\":1,\"iv\":\"AAAAAAAAAAAAAAAA\","
        "\"wrapped_data\":\"AAAAAAAAAAAAAAAAAAAAAA==\",\"wrap_type\":\"A256GCM\"}",
        "{\"kid\":\"a/b/c\",\"key_version\":1,\"iv\":\"AAAAAAAAAAAAAAA\","
        "\"wrapped_data\":\"AAAAAAAAAAAAAAAAAAAAAA==\",\"wrap_type\":\"A256GCM\"}",
        "{\"kid\":\"a/../c\",\"key_version\":1,\"iv\":\"AAAAAAAAAAAAAAAA\","
        "\"wrapped_data\":\"AAAAAAAAAAAAAAAAAAAAAA==\",\"wrap_type\":\"A256GCM\"}",
        "{\"kid\":\"a/b/c\",\"key_version\":0,\"iv\":\"AAAAAAAAAAAAAAAA\","
        "\"wrapped_data\":\"AAAAAAAAAAAAAAAAAAAAAA==\",\"wrap_type\":\"A256GCM\"}",
        "{\"kid\":\"a/b/c\",\"key_version\":1,\"iv\":\"AAAAAAAAAAAAAAAA\","
        "\"wrapped_data\":\"AAAAAAAAAAAAAAAAAAAA\",\"wrap_type\":\"A256GCM\"}",
        "{\"kid\":\"a/b/c\",\"key_version\":1,\"iv\":\"AAAAAAAAAAAAAAAA\","
        "\"wrapped_data\":\"AAAAAAAAAAAAAAAAAAAAAA==\",\"wrap_type\":\"A128GCM\"}",
        "[]",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_ERR(vtp_wrapped_parse((const uint8_t *)bad[i], strlen(bad[i]), &w2, why,
                                    sizeof(why)), VT_ERR_BROKER_BAD_ANNOTATION);
    /* the broker's request parser keeps its reason for a duplicate key */
    struct vtp_request rq;
    const char *dup = "{\"id\":\"1\",\"op\":\"version\",\"op\":\"get-resource\"}";
    CHECK_ERR(vtp_request_parse((const uint8_t *)dup, strlen(dup), false, &rq, why, sizeof(why)),
              VT_ERR_BROKER_MALFORMED_REQUEST);
    CHECK(!strncmp(why, "malformed request: invalid JSON at byte ", 40));
    vtp_request_free(&rq);
}

int main(void)
{
    test_frames();
    test_json();
    test_bytes();
    test_paths();
    test_hostport();
    test_keyprovider();
    test_wrapped();
    return vt_test_done();
}
