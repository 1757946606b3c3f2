/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spdm_test.c - the SPDM 1.1 GET_MEASUREMENTS / MEASUREMENTS parser (evidence/spdm.c) and the
 * DiceTcbInfo FWID reader (evidence/dice_tcb.c): the real Hopper report of cases.json "nvidia"
 * field by field (every measurement), every prefix refused as truncated, and each refusal's
 * exact code on built reports (request fields, response header, record and block sizes,
 * ordering, index semantics, opaque items: unknown type, repeat, truncated final item, fixed
 * sizes; trailing bytes counted).
 */
#include <jansson.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <string.h>

#include "evidence/dice_tcb.h"
#include "evidence/spdm.h"
#include "util/codec.h"
#include "vt_test.h"

static struct vt_buf real_report(void)
{
    struct vt_buf t = vt_testdata_read("nvidia/trustee_hopperAttestationReport.txt"), b = VT_BUF_INIT;
    size_t n = t.len;
    while (n > 0 && (t.p[n - 1] == '\n' || t.p[n - 1] == '\r' || t.p[n - 1] == ' '))
        n--;
    CHECK_OK(vti_hex_decode((const char *)t.p, n, &b));
    vti_buf_free_nowipe(&t);
    return b;
}

static json_t *nv_case(json_t *root)
{
    json_t *l = json_object_get(root, "nvidia");
    return json_array_get(l, 0);
}

static bool hex_eq(const uint8_t *p, size_t n, const char *hex)
{
    char h[1024];
    if (!hex || 2 * n + 1 > sizeof(h))
        return false;
    vti_hex_encode(p, n, h);
    return strcmp(h, hex) == 0;
}

static void test_real(void)
{
    struct vt_buf b = real_report();
    json_t *root = vt_test_cases(), *c = nv_case(root), *r = json_object_get(c, "report");
    static struct vt_spdm_report s;
    CHECK(b.len == (size_t)json_integer_value(json_object_get(r, "hex_text_bytes")));
    CHECK_OK(vti_spdm_parse(b.p, b.len, &s));
    CHECK(s.version == 0x11 && s.req_param1 == 1 && s.req_index == 255 && s.slot == 0);
    CHECK(hex_eq(s.nonce, 32, json_string_value(json_object_get(r, "nonce"))));
    CHECK(s.n_blocks == json_integer_value(json_object_get(r, "number_of_blocks")));
    CHECK(s.record_len == json_integer_value(json_object_get(r, "measurement_record_length")));
    CHECK(hex_eq(s.rsp_nonce, 32, json_string_value(json_object_get(r, "responder_nonce"))));
    CHECK(s.opaque_len == json_integer_value(json_object_get(r, "opaque_length")));
    json_t *types = json_object_get(r, "opaque_tlv_types"), *t;
    size_t i;
    CHECK(s.n_opaque == json_array_size(types));
    json_array_foreach(types, i, t)
        CHECK(vti_spdm_opaque_find(&s, (uint16_t)json_integer_value(t)) != NULL);
    CHECK(s.signed_len == (size_t)json_integer_value(json_object_get(r, "signed_bytes")));
    CHECK(s.signed_bytes == b.p && s.signature == b.p + s.signed_len && s.trailing == 0);
    const char *k;
    json_t *m;
    size_t nm = 0;
    json_object_foreach(json_object_get(r, "measurements"), k, m) {
        const struct vt_spdm_block *bl = vti_spdm_block_find(&s, (uint8_t)strtoul(k, NULL, 10));
        CHECK(bl && bl->value_len == 48 && hex_eq(bl->value, 48, json_string_value(m)));
        nm++;
    }
    CHECK(nm == 64);
    char v[64];
    CHECK(vti_spdm_driver_version(vti_spdm_opaque_find(&s, VT_SPDM_OP_DRIVER_VERSION), v) &&
          strcmp(v, json_string_value(json_object_get(json_object_get(c, "rim"),
                                                       "report_driver_version"))) == 0);
    CHECK(vti_spdm_vbios_version(vti_spdm_opaque_find(&s, VT_SPDM_OP_VBIOS_VERSION), v) &&
          strcmp(v, "96.00.9f.00.01") == 0);
    const struct vt_spdm_opaque_item *fw = vti_spdm_opaque_find(&s, VT_SPDM_OP_FWID);
    CHECK(fw && hex_eq(fw->value, 48, json_string_value(json_object_get(
                  json_object_get(c, "cert_chain"), "leaf_fwid_2.23.133.5.4.1"))));

    /* every prefix is truncated; one byte more is trailing (counted) */
    int bad = 0;
    for (size_t n = 0; n < b.len; n++)
        bad += vti_spdm_parse(b.p, n, &s).err != VT_ERR_SPDM_TRUNCATED;
    CHECK(bad == 0);
    CHECK_ERR(vti_spdm_parse(b.p, b.len - 97, &s), VT_ERR_SPDM_TRUNCATED);
    CHECK_OK(vti_buf_u8(&b, 0));
    CHECK_ERR(vti_spdm_parse(b.p, b.len, &s), VT_ERR_SPDM_TRAILING);
    CHECK(s.trailing == 1 && s.n_blocks == 64);
    json_decref(root);
    vti_buf_free_nowipe(&b);
}

/* ---- built reports --------------------------------------------------------------------- */

struct rb {
    uint8_t p[4096];
    size_t n;
};

static void put(struct rb *b, const void *p, size_t n)
{
    memcpy(b->p + b->n, p, n);
    b->n += n;
}
static void put8(struct rb *b, unsigned v) { b->p[b->n++] = (uint8_t)v; }
static void put16(struct rb *b, unsigned v) { put8(b, v & 0xff); put8(b, v >> 8); }

/* A block: index, spec, DMTF type, value size; msize_delta corrupts MeasurementSize. */
static void block(struct rb *b, unsigned idx, unsigned spec, unsigned type, unsigned vsize,
                  int msize_delta)
{
    put8(b, idx);
    put8(b, spec);
    put16(b, (unsigned)((int)vsize + 3 + msize_delta));
    put8(b, type);
    put16(b, vsize);
    for (unsigned i = 0; i < vsize; i++)
        put8(b, i);
}

static void item(struct rb *b, unsigned type, unsigned len)
{
    put16(b, type);
    put16(b, len);
    for (unsigned i = 0; i < len; i++)
        put8(b, 'a');
}

struct spec {
    uint8_t req[VT_SPDM_REQ_LEN];
    uint8_t rsp_version, rsp_code, n_blocks;
    struct rb rec, op;
    int rec_len_delta;
    size_t sig_len;
};

static void spec_init(struct spec *s)
{
    memset(s, 0, sizeof(*s));
    s->req[0] = 0x11;
    s->req[1] = 0xe0;
    s->req[2] = 1;
    s->req[3] = 0xff;
    s->rsp_version = 0x11;
    s->rsp_code = 0x60;
    s->n_blocks = 2;
    block(&s->rec, 1, 1, 0x01, 48, 0);
    block(&s->rec, 2, 1, 0x82, 5, 0); /* raw bit stream */
    item(&s->op, VT_SPDM_OP_DRIVER_VERSION, 4);
    item(&s->op, VT_SPDM_OP_FWID, 48);
    s->sig_len = 96;
}

static int parse(const struct spec *s, struct vt_spdm_report *out)
{
    static struct rb b;
    b.n = 0;
    put(&b, s->req, sizeof(s->req));
    put8(&b, s->rsp_version);
    put8(&b, s->rsp_code);
    put16(&b, 0);
    put8(&b, s->n_blocks);
    unsigned rl = (unsigned)((int)s->rec.n + s->rec_len_delta);
    put8(&b, rl & 0xff);
    put8(&b, (rl >> 8) & 0xff);
    put8(&b, rl >> 16);
    put(&b, s->rec.p, s->rec.n);
    for (int i = 0; i < 32; i++)
        put8(&b, 0x55);
    put16(&b, (unsigned)s->op.n);
    put(&b, s->op.p, s->op.n);
    for (size_t i = 0; i < s->sig_len; i++)
        put8(&b, 0x66);
    return vti_spdm_parse(b.p, b.n, out).err;
}

static struct vt_spdm_report out;

static void test_request(void)
{
    struct spec s;
    spec_init(&s);
    CHECK_OK(parse(&s, &out));
    CHECK(out.n_blocks == 2 && out.blocks[1].value_type == 0x82 && out.blocks[1].value_len == 5);
    CHECK(out.n_opaque == 2 && out.signed_len == 37 + 8 + s.rec.n + 32 + 2 + s.op.n);
    s.req[0] = 0x12;
    CHECK_ERR(parse(&s, &out), VT_ERR_SPDM_REQ_VERSION);
    spec_init(&s);
    s.req[1] = 0xe1;
    CHECK_ERR(parse(&s, &out), VT_ERR_SPDM_REQ_CODE);
    spec_init(&s);
    s.req[2] = 0;
    CHECK_ERR(parse(&s, &out), VT_ERR_SPDM_REQ_NO_SIGNATURE);
    spec_init(&s);
    s.req[36] = 7;
    CHECK_OK(parse(&s, &out));
    s.req[36] = 8;
    CHECK_ERR(parse(&s, &out), VT_ERR_SPDM_REQ_SLOT);
    spec_init(&s);
    s.rsp_version = 0x12;
    CHECK_ERR(parse(&s, &out), VT_ERR_SPDM_RSP_VERSION);
    spec_init(&s);
    s.rsp_code = 0x61;
    CHECK_ERR(parse(&s, &out), VT_ERR_SPDM_RSP_CODE);
    spec_init(&s);
    s.sig_len = 97;
    CHECK_ERR(parse(&s, &out), VT_ERR_SPDM_TRAILING);
    CHECK(out.trailing == 1);
    s.sig_len = 95;
    CHECK_ERR(parse(&s, &out), VT_ERR_SPDM_TRUNCATED);
    static uint8_t big[VT_SPDM_MAX_REPORT + 1];
    CHECK_ERR(vti_spdm_parse(big, sizeof(big), &out), VT_ERR_SPDM_TOO_LARGE);
}

static void test_record(void)
{
    struct spec s;
    spec_init(&s);
    s.n_blocks = 1;
    CHECK_ERR(parse(&s, &out), VT_ERR_SPDM_RECORD);
    s.n_blocks = 3;
    CHECK_ERR(parse(&s, &out), VT_ERR_SPDM_RECORD);
    spec_init(&s);
    s.rec_len_delta = 1;
    CHECK_ERR(parse(&s, &out), VT_ERR_SPDM_RECORD);
    s.rec_len_delta = -1;
    CHECK_ERR(parse(&s, &out), VT_ERR_SPDM_RECORD);
    struct { unsigned idx, spec, type, vsize; int delta; int want; } bl[] = {
        { 3, 2, 0x01, 48, 0, VT_ERR_SPDM_BLOCK },        /* not the DMTF specification */
        { 0xff, 1, 0x01, 48, 0, VT_ERR_SPDM_BLOCK },     /* reserved index */
        { 2, 1, 0x01, 48, 0, VT_ERR_SPDM_BLOCK_ORDER },  /* repeats index 2 */
        { 3, 1, 0x01, 47, 0, VT_ERR_SPDM_DIGEST_SIZE },  /* digest, not SHA-384 */
        { 3, 1, 0x01, 48, 1, VT_ERR_SPDM_RECORD },       /* MeasurementSize past the record */
        { 3, 1, 0x01, 48, -1, VT_ERR_SPDM_BLOCK },       /* MeasurementSize one less */
        { 3, 1, 0x81, 0, 0, VT_ERR_SPDM_BLOCK },         /* empty value */
        { 3, 1, 0x01, 48, -3, VT_ERR_SPDM_BLOCK },       /* no DMTF header */
        { 3, 1, 0x81, 7, 0, VT_OK },
    };
    for (size_t i = 0; i < VT_ARRAY_LEN(bl); i++) {
        spec_init(&s);
        s.n_blocks = 3;
        block(&s.rec, bl[i].idx, bl[i].spec, bl[i].type, bl[i].vsize, bl[i].delta);
        CHECK_ERR(parse(&s, &out), bl[i].want);
    }
    spec_init(&s);
    s.rec.n = 0;
    s.n_blocks = 1;
    block(&s.rec, 0, 1, 0x01, 48, 0);
    CHECK_ERR(parse(&s, &out), VT_ERR_SPDM_BLOCK);
}

static void test_index(void)
{
    struct spec s;
    spec_init(&s);
    s.req[3] = 2; /* one block asked for, two sent */
    CHECK_ERR(parse(&s, &out), VT_ERR_SPDM_INDEX);
    s.req[3] = 0;
    CHECK_ERR(parse(&s, &out), VT_ERR_SPDM_INDEX);
    s.n_blocks = 0;
    s.rec.n = 0;
    CHECK_OK(parse(&s, &out));
    s.req[3] = 0xff;
    CHECK_ERR(parse(&s, &out), VT_ERR_SPDM_INDEX);
    spec_init(&s);
    s.req[3] = 2;
    s.n_blocks = 1;
    s.rec.n = 0;
    block(&s.rec, 2, 1, 0x01, 48, 0);
    CHECK_OK(parse(&s, &out));
    s.req[3] = 3;
    CHECK_ERR(parse(&s, &out), VT_ERR_SPDM_INDEX);
}

static void test_opaque(void)
{
    struct spec s;
    struct { unsigned type, len; int want; } it[] = {
        { 26, 1, VT_ERR_SPDM_OPAQUE_TYPE },  { 0, 1, VT_ERR_SPDM_OPAQUE_TYPE },
        { 255, 1, VT_ERR_SPDM_OPAQUE_TYPE }, { 37, 1, VT_ERR_SPDM_OPAQUE_TYPE },
        { VT_SPDM_OP_DRIVER_VERSION, 1, VT_ERR_SPDM_OPAQUE_DUP },
        { VT_SPDM_OP_VBIOS_VERSION, 7, VT_ERR_SPDM_OPAQUE },
        { VT_SPDM_OP_MSRSCNT, 6, VT_ERR_SPDM_OPAQUE },
        { VT_SPDM_OP_VBIOS_VERSION, 8, VT_OK }, { VT_SPDM_OP_FEATURE_FLAG, 0, VT_OK },
        { VT_SPDM_OP_GPU_LINK_CONN, 3, VT_OK },
    };
    for (size_t i = 0; i < VT_ARRAY_LEN(it); i++) {
        spec_init(&s);
        item(&s.op, it[i].type, it[i].len);
        CHECK_ERR(parse(&s, &out), it[i].want);
    }
    spec_init(&s);
    s.op.n = 0;
    item(&s.op, VT_SPDM_OP_FWID, 47);
    CHECK_ERR(parse(&s, &out), VT_ERR_SPDM_OPAQUE);
    /* truncated final item: its size points past the opaque data */
    spec_init(&s);
    item(&s.op, VT_SPDM_OP_CHIP_SKU, 4);
    s.op.n -= 1;
    CHECK_ERR(parse(&s, &out), VT_ERR_SPDM_OPAQUE);
    /* a final partial item header (1..3 bytes) */
    for (unsigned k = 1; k < 4; k++) {
        spec_init(&s);
        for (unsigned j = 0; j < k; j++)
            put8(&s.op, 3);
        CHECK_ERR(parse(&s, &out), VT_ERR_SPDM_OPAQUE);
    }
    spec_init(&s);
    s.op.n = 0;
    CHECK_OK(parse(&s, &out));
    CHECK(out.n_opaque == 0 && vti_spdm_opaque_find(&out, VT_SPDM_OP_FWID) == NULL);
}

static void test_text(void)
{
    char v[64];
    struct vt_spdm_opaque_item it = { VT_SPDM_OP_DRIVER_VERSION, (const uint8_t *)"550.90.07\0\0", 11 };
    CHECK(vti_spdm_driver_version(&it, v) && strcmp(v, "550.90.07") == 0);
    it.value = (const uint8_t *)"550\0x";
    it.len = 5;
    CHECK(!vti_spdm_driver_version(&it, v));
    it.value = (const uint8_t *)"5\n0";
    it.len = 3;
    CHECK(!vti_spdm_driver_version(&it, v));
    it.len = 0;
    CHECK(!vti_spdm_driver_version(&it, v) && !vti_spdm_driver_version(NULL, v));
    static const uint8_t vb[8] = { 0x00, 0x9f, 0x00, 0x96, 0x01, 0, 0, 0 };
    struct vt_spdm_opaque_item vi = { VT_SPDM_OP_VBIOS_VERSION, vb, 8 };
    CHECK(vti_spdm_vbios_version(&vi, v) && strcmp(v, "96.00.9f.00.01") == 0);
    vi.len = 7;
    CHECK(!vti_spdm_vbios_version(&vi, v));
}

/* ---- DiceTcbInfo FWID ------------------------------------------------------------------ */

static void test_dice_real(void)
{
    struct vt_buf pem = vt_testdata_read("nvidia/trustee_hopper_cert_chain_case1.txt");
    BIO *bio = BIO_new_mem_buf(pem.p, (int)pem.len);
    X509 *leaf = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    CHECK(leaf != NULL);
    ASN1_OBJECT *oid = OBJ_txt2obj("2.23.133.5.4.1", 1);
    int at = leaf ? X509_get_ext_by_OBJ(leaf, oid, -1) : -1;
    CHECK(at >= 0);
    if (at >= 0) {
        ASN1_OCTET_STRING *v = X509_EXTENSION_get_data(X509_get_ext(leaf, at));
        const uint8_t *p = ASN1_STRING_get0_data(v), *fw = NULL;
        size_t n = (size_t)ASN1_STRING_length(v);
        CHECK_OK(vti_dice_fwid(p, n, VT_DICE_HOPPER, &fw));
        CHECK(fw && hex_eq(fw, 48, "f5c384aebb579217a2c66b17ed0f28e6a9b8d639041acd7b4721cec004f7275494ba94bb5cdfdb3055ee051762b1f75d"));
        CHECK_ERR(vti_dice_fwid(p, n, VT_DICE_BLACKWELL, &fw), VT_ERR_NV_DICE_EXT);
        int bad = 0;
        for (size_t k = 0; k < n; k++)
            bad += vti_dice_fwid(p, k, VT_DICE_HOPPER, &fw).err != VT_ERR_NV_DICE_EXT;
        CHECK(bad == 0);
    }
    ASN1_OBJECT_free(oid);
    X509_free(leaf);
    BIO_free(bio);
    vti_buf_free_nowipe(&pem);
}

/* SEQUENCE { [1] "GB100", [6] { SEQUENCE { OID sha384, OCTET STRING(dlen) } x nfw } } */
static size_t blackwell_ext(uint8_t *o, size_t dlen, int nfw)
{
    static const uint8_t sha384[] = { 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02 };
    uint8_t fw[80];
    size_t f = 0;
    fw[f++] = 0x30;
    fw[f++] = (uint8_t)(sizeof(sha384) + 2 + dlen);
    memcpy(fw + f, sha384, sizeof(sha384));
    f += sizeof(sha384);
    fw[f++] = 0x04;
    fw[f++] = (uint8_t)dlen;
    for (size_t i = 0; i < dlen; i++)
        fw[f++] = (uint8_t)(0xa0 + i);
    size_t inner = f * (size_t)nfw, n = 0, ilen = inner < 0x80 ? 2 : 3;
    o[n++] = 0x30;
    o[n++] = 0x81; /* 7 + ilen + inner >= 0x80 for nfw >= 2 only: keep minimal below */
    o[n++] = (uint8_t)(7 + ilen + inner);
    if (7 + ilen + inner < 0x80) { /* short form */
        o[1] = (uint8_t)(7 + ilen + inner);
        n = 2;
    }
    memcpy(o + n, "\x81\x05GB100", 7);
    n += 7;
    o[n++] = 0xa6;
    if (inner >= 0x80)
        o[n++] = 0x81;
    o[n++] = (uint8_t)inner;
    for (int k = 0; k < nfw; k++) {
        memcpy(o + n, fw, f);
        n += f;
    }
    return n;
}

static void test_dice_blackwell(void)
{
    uint8_t e[256];
    const uint8_t *fw = NULL;
    size_t n = blackwell_ext(e, 48, 2);
    CHECK_OK(vti_dice_fwid(e, n, VT_DICE_BLACKWELL, &fw));
    CHECK(fw && fw[0] == 0xa0 && fw[47] == 0xa0 + 47);
    n = blackwell_ext(e, 32, 1); /* SHA-256 sized digest */
    CHECK_ERR(vti_dice_fwid(e, n, VT_DICE_BLACKWELL, &fw), VT_ERR_NV_DICE_EXT);
    n = blackwell_ext(e, 48, 0); /* fwids present but empty */
    CHECK_ERR(vti_dice_fwid(e, n, VT_DICE_BLACKWELL, &fw), VT_ERR_NV_DICE_EXT);
    n = blackwell_ext(e, 48, 1);
    e[n++] = 0; /* a byte after the outer SEQUENCE */
    CHECK_ERR(vti_dice_fwid(e, n, VT_DICE_BLACKWELL, &fw), VT_ERR_NV_DICE_EXT);
    static const uint8_t nonmin[] = { 0x30, 0x81, 0x02, 0x05, 0x00 }; /* long form for 2 */
    CHECK_ERR(vti_dice_fwid(nonmin, sizeof(nonmin), VT_DICE_BLACKWELL, &fw), VT_ERR_NV_DICE_EXT);
    static const uint8_t nofw[] = { 0x30, 0x03, 0x81, 0x01, 0x41 };
    CHECK_ERR(vti_dice_fwid(nofw, sizeof(nofw), VT_DICE_BLACKWELL, &fw), VT_ERR_NV_DICE_EXT);
    CHECK_ERR(vti_dice_fwid(nofw, sizeof(nofw), VT_DICE_HOPPER, &fw), VT_ERR_NV_DICE_EXT);
    static const uint8_t hightag[] = { 0x3f, 0x01, 0x00 };
    CHECK_ERR(vti_dice_fwid(hightag, sizeof(hightag), VT_DICE_HOPPER, &fw), VT_ERR_NV_DICE_EXT);
    static const uint8_t empty_seq[] = { 0x30, 0x00 };
    CHECK_ERR(vti_dice_fwid(empty_seq, sizeof(empty_seq), VT_DICE_HOPPER, &fw), VT_ERR_NV_DICE_EXT);
}

int main(void)
{
    test_real();
    test_request();
    test_record();
    test_index();
    test_opaque();
    test_text();
    test_dice_real();
    test_dice_blackwell();
    return vt_test_done();
}
