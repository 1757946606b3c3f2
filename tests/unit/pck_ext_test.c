/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pck_ext_test.c - the PCK certificate SGX extension parser (src/evidence/pck_ext.c).
 * Positive: the extension of every real PCK certificate in the shared Intel cases (found in
 * the quotes' PCK chains) gives the FMSPC, PCE-ID, PCESVN and TCB components of cases.json.
 * Negative: a synthetic extension, built here, broken one way at a time; every refusal is
 * VT_ERR_INTEL_PCK_EXT. Also pins what is accepted today (duplicates: the last wins; unknown
 * entries and trailing elements inside a TCB entry are ignored).
 */
#include <jansson.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "crypto/crypto.h"
#include "evidence/intel_quote.h"
#include "evidence/pck_ext.h"
#include "util/codec.h"
#include "vt_test.h"

/* ---- a tiny DER writer ------------------------------------------------------------- */

struct der {
    uint8_t b[1024];
    size_t n;
};

static void put(struct der *d, const void *p, size_t n)
{
    if (d->n + n > sizeof(d->b))
        abort();
    memcpy(d->b + d->n, p, n);
    d->n += n;
}

/* Append tag, definite length and contents. */
static void tlv(struct der *d, uint8_t tag, const void *p, size_t n)
{
    uint8_t h[4] = { tag };
    size_t hl = 2;
    if (n < 0x80) {
        h[1] = (uint8_t)n;
    } else if (n < 0x100) {
        h[1] = 0x81;
        h[2] = (uint8_t)n;
        hl = 3;
    } else {
        h[1] = 0x82;
        h[2] = (uint8_t)(n >> 8);
        h[3] = (uint8_t)n;
        hl = 4;
    }
    put(d, h, hl);
    put(d, p, n);
}

/* OID 1.2.840.113741.1.13.1.a(.b) (b = 0: none). */
static void oid(struct der *d, unsigned a, unsigned b)
{
    uint8_t o[11];
    memcpy(o, vt_pck_ext_oid_der, 9);
    o[9] = (uint8_t)a;
    o[10] = (uint8_t)b;
    tlv(d, 0x06, o, b ? 11 : 10);
}

/* SEQUENCE { OID .a(.b), value } with the value given as TLV bytes. */
static void pair(struct der *d, unsigned a, unsigned b, const struct der *val)
{
    struct der s = { .n = 0 };
    oid(&s, a, b);
    put(&s, val->b, val->n);
    tlv(d, 0x30, s.b, s.n);
}

static struct der octets(const void *p, size_t n)
{
    struct der v = { .n = 0 };
    tlv(&v, 0x04, p, n);
    return v;
}

static struct der integer(uint32_t x)
{
    struct der v = { .n = 0 };
    uint8_t c[4] = { (uint8_t)(x >> 24), (uint8_t)(x >> 16), (uint8_t)(x >> 8), (uint8_t)x };
    size_t i = 0;
    while (i < 3 && c[i] == 0 && !(c[i + 1] & 0x80))
        i++;
    tlv(&v, 0x02, c + i, 4 - i);
    return v;
}

/* What to break in the synthetic extension. */
struct mut {
    int fmspc_len, pceid_len, cpusvn_len;  /* 0: the right length */
    unsigned skip_top;                     /* top-level entry .a left out (2, 3, 4) */
    unsigned skip_tcb;                     /* TCB entry .2.b left out (1..18) */
    unsigned extra_tcb;                    /* a further TCB entry .2.b with INTEGER 1 */
    uint32_t comp_value, pcesvn_value;     /* 0: 7 and 9 */
    bool dup_fmspc;                        /* a second FMSPC entry, ff.. */
    bool unknown_entries;                  /* PPID .1, SGX type .5, an OID outside the arc */
    bool fmspc_as_integer;
    bool trailing_in_top;                  /* a NULL after the FMSPC value */
    bool trailing_in_tcb;                  /* a NULL after the value of TCB entry .2.1 */
};

static const uint8_t FMSPC[6] = { 0x00, 0x90, 0x6e, 0xa1, 0x00, 0x00 };
static const uint8_t PCEID[2] = { 0x00, 0x00 };

static void tcb_seq(struct der *d, const struct mut *m)
{
    struct der t = { .n = 0 };
    uint8_t cpusvn[17];
    for (unsigned b = 1; b <= 18; b++) {
        if (b == m->skip_tcb)
            continue;
        struct der v;
        if (b <= 16) {
            v = integer(b == 3 && m->comp_value ? m->comp_value : 7);
        } else if (b == 17) {
            v = integer(m->pcesvn_value ? m->pcesvn_value : 9);
        } else {
            for (int i = 0; i < 17; i++)
                cpusvn[i] = (uint8_t)(0x10 + i);
            v = octets(cpusvn, m->cpusvn_len ? (size_t)m->cpusvn_len : 16);
        }
        if (b == 1 && m->trailing_in_tcb)
            put(&v, "\x05\x00", 2);
        pair(&t, 2, b, &v);
    }
    if (m->extra_tcb) {
        struct der v = integer(1);
        pair(&t, 2, m->extra_tcb, &v);
    }
    struct der v = { .n = 0 };
    tlv(&v, 0x30, t.b, t.n);
    pair(d, 2, 0, &v);
}

static struct der build(const struct mut *m)
{
    struct der s = { .n = 0 };
    if (m->unknown_entries) {
        uint8_t ppid[16] = { 1, 2, 3 };
        struct der v = octets(ppid, 16);
        pair(&s, 1, 0, &v);
    }
    if (m->skip_top != 2)
        tcb_seq(&s, m);
    if (m->skip_top != 3) {
        uint8_t p[3] = { 0 };
        memcpy(p, PCEID, 2);
        struct der v = octets(p, m->pceid_len ? (size_t)m->pceid_len : 2);
        pair(&s, 3, 0, &v);
    }
    if (m->skip_top != 4) {
        uint8_t f[7] = { 0 };
        memcpy(f, FMSPC, 6);
        struct der v = m->fmspc_as_integer ? integer(5)
                                           : octets(f, m->fmspc_len ? (size_t)m->fmspc_len : 6);
        if (m->trailing_in_top)
            put(&v, "\x05\x00", 2);
        pair(&s, 4, 0, &v);
    }
    if (m->dup_fmspc) {
        static const uint8_t f2[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
        struct der v = octets(f2, 6);
        pair(&s, 4, 0, &v);
    }
    if (m->unknown_entries) {
        struct der v = { .n = 0 };
        tlv(&v, 0x0a, "\x01", 1); /* SGX type: ENUMERATED */
        pair(&s, 5, 0, &v);
        /* 1.2.3.4 = BOOLEAN TRUE */
        struct der o = { .n = 0 };
        tlv(&o, 0x06, "\x2a\x03\x04", 3);
        tlv(&o, 0x01, "\xff", 1);
        tlv(&s, 0x30, o.b, o.n);
    }
    struct der d = { .n = 0 };
    tlv(&d, 0x30, s.b, s.n);
    return d;
}

static vt_res parse_mut(const struct mut *m, struct vt_pck_ext *e)
{
    struct der d = build(m);
    memset(e, 0, sizeof(*e));
    return vti_pck_ext_parse(d.b, d.n, e);
}

/* ---- synthetic cases ---------------------------------------------------------------- */

static void good_synthetic(void)
{
    struct vt_pck_ext e;
    struct mut m = { 0 };
    CHECK_OK(parse_mut(&m, &e));
    CHECK(memcmp(e.fmspc, FMSPC, 6) == 0 && memcmp(e.pceid, PCEID, 2) == 0);
    CHECK(e.pcesvn == 9 && e.comps[0] == 7 && e.comps[15] == 7);
    CHECK(e.cpusvn[0] == 0x10 && e.cpusvn[15] == 0x1f);

    /* unknown entries (PPID, SGX type, an OID outside the SGX arc) are skipped */
    m = (struct mut){ .unknown_entries = true };
    CHECK_OK(parse_mut(&m, &e));
    CHECK(memcmp(e.fmspc, FMSPC, 6) == 0);
    /* the largest values */
    m = (struct mut){ .comp_value = 255, .pcesvn_value = 65535 };
    CHECK_OK(parse_mut(&m, &e));
    CHECK(e.comps[2] == 255 && e.pcesvn == 65535);
    /* accepted today: a duplicate FMSPC (the last one wins), a duplicate TCB entry (same),
     * elements after the value inside a TCB entry */
    m = (struct mut){ .dup_fmspc = true };
    CHECK_OK(parse_mut(&m, &e));
    CHECK(e.fmspc[0] == 0xff && e.fmspc[5] == 0xff);
    m = (struct mut){ .extra_tcb = 5 };
    CHECK_OK(parse_mut(&m, &e));
    CHECK(e.comps[4] == 1);
    m = (struct mut){ .trailing_in_tcb = true };
    CHECK_OK(parse_mut(&m, &e));
}

static void bad_synthetic(void)
{
    const int E = VT_ERR_INTEL_PCK_EXT;
    struct vt_pck_ext e;
    static const struct mut bad[] = {
        { .skip_top = 4 },                 /* missing FMSPC */
        { .skip_top = 3 },                 /* missing PCE-ID */
        { .skip_top = 2 },                 /* missing TCB */
        { .skip_tcb = 1 },                 /* a component missing */
        { .skip_tcb = 16 },
        { .skip_tcb = 17 },                /* PCESVN missing */
        { .skip_tcb = 18 },                /* CPUSVN missing */
        { .fmspc_len = 5 }, { .fmspc_len = 7 },
        { .pceid_len = 1 }, { .pceid_len = 3 },
        { .cpusvn_len = 15 }, { .cpusvn_len = 17 },
        { .comp_value = 256 },             /* component > 255 */
        { .pcesvn_value = 65536 },         /* PCESVN > 65535 */
        { .pcesvn_value = 0x1000000 },     /* 4 content bytes */
        { .extra_tcb = 19 },               /* TCB entry outside .2.1 .. .2.18 */
        { .fmspc_as_integer = true },      /* wrong type */
        { .trailing_in_top = true },       /* element after a top-level value */
    };
    for (size_t i = 0; i < VT_ARRAY_LEN(bad); i++) {
        vt_res r = parse_mut(&bad[i], &e);
        CHECK_ERR(r, E);
        if (r.err != E)
            fprintf(stderr, "  (bad case %zu)\n", i);
    }

    struct mut ok = { 0 };
    struct der d = build(&ok);
    /* every truncation */
    int wrong = 0;
    for (size_t n = 0; n < d.n; n++)
        wrong += vti_pck_ext_parse(d.b, n, &e).err != E;
    CHECK(wrong == 0);
    CHECK_ERR(vti_pck_ext_parse(NULL, 0, &e), E);
    /* outer length one more / one less than the contents */
    struct der x = d;
    x.b[3]++; /* 0x30 0x82 hi lo */
    CHECK(d.b[1] == 0x82);
    CHECK_ERR(vti_pck_ext_parse(x.b, x.n, &e), E);
    x = d;
    x.b[3]--;
    CHECK_ERR(vti_pck_ext_parse(x.b, x.n, &e), E);
    /* a byte after the SEQUENCE */
    x = d;
    x.b[x.n++] = 0;
    CHECK_ERR(vti_pck_ext_parse(x.b, x.n, &e), E);
    /* not a SEQUENCE (SET) */
    x = d;
    x.b[0] = 0x31;
    CHECK_ERR(vti_pck_ext_parse(x.b, x.n, &e), E);
    /* high-tag-number form, indefinite length, 4 length bytes */
    static const uint8_t hi_tag[] = { 0x1f, 0x01, 0x00 };
    CHECK_ERR(vti_pck_ext_parse(hi_tag, sizeof(hi_tag), &e), E);
    static const uint8_t indef[] = { 0x30, 0x80, 0x00, 0x00 };
    CHECK_ERR(vti_pck_ext_parse(indef, sizeof(indef), &e), E);
    static const uint8_t len4[] = { 0x30, 0x84, 0x00, 0x00, 0x00, 0x00 };
    CHECK_ERR(vti_pck_ext_parse(len4, sizeof(len4), &e), E);
    /* an empty SEQUENCE: nothing found */
    static const uint8_t empty[] = { 0x30, 0x00 };
    CHECK_ERR(vti_pck_ext_parse(empty, sizeof(empty), &e), E);
    /* wrong OID arc: every SGX OID byte changed (nothing is found) */
    int found = 0;
    for (size_t i = 0; i + 1 < d.n; i++) {
        if (memcmp(d.b + i, vt_pck_ext_oid_der, 9) != 0)
            continue;
        x = d;
        x.b[i + 8] = 0x02; /* ...1.13.2 */
        found += vti_pck_ext_parse(x.b, x.n, &e).err == E;
    }
    CHECK(found == 21); /* 18 TCB entries + TCB + PCE-ID + FMSPC */
    /* a negative INTEGER component */
    x = d;
    for (size_t i = 0; i + 12 < x.n; i++)
        if (memcmp(x.b + i, vt_pck_ext_oid_der, 9) == 0 && x.b[i + 9] == 2 &&
            x.b[i + 10] == 1 && x.b[i + 11] == 0x02) {
            x.b[i + 13] = 0x87;
            break;
        }
    CHECK_ERR(vti_pck_ext_parse(x.b, x.n, &e), E);
}

/* ---- real PCK certificates ---------------------------------------------------------- */

/* The SGX extension value of the PCK leaf of a quote's chain (a copy, or an empty buffer). */
static struct vt_buf ext_of_quote(const struct vt_buf *quote)
{
    struct vt_buf out = VT_BUF_INIT;
    struct vt_intel_quote q;
    if (vt_intel_quote_parse(quote->p, quote->len, &q).err != 0)
        return out;
    size_t n = q.pck_chain_len;
    while (n > 0 && q.pck_chain[n - 1] == 0)
        n--;
    struct vt_pem_list l = { 0 };
    if (vti_pem_decode(q.pck_chain, n, "CERTIFICATE", &l).err == 0) {
        ASN1_OBJECT *obj = OBJ_txt2obj(VT_PCK_EXT_OID, 1);
        for (size_t i = 0; i < l.n && out.len == 0; i++) {
            const unsigned char *p = l.der[i].p;
            X509 *x = d2i_X509(NULL, &p, (long)l.der[i].len);
            int idx = x ? X509_get_ext_by_OBJ(x, obj, -1) : -1;
            if (idx >= 0) {
                ASN1_OCTET_STRING *os = X509_EXTENSION_get_data(X509_get_ext(x, idx));
                if (vti_buf_append(&out, ASN1_STRING_get0_data(os),
                                  (size_t)ASN1_STRING_length(os)).err != 0)
                    abort();
            }
            X509_free(x);
        }
        ASN1_OBJECT_free(obj);
    }
    vti_pem_list_free(&l);
    return out;
}

static void real_case(json_t *c)
{
    const char *id = json_string_value(json_object_get(c, "id"));
    json_t *ex = json_object_get(c, "expect");
    struct vt_buf quote = vt_testdata_read(json_string_value(json_object_get(c, "quote")));
    struct vt_buf der = ext_of_quote(&quote);
    CHECK(der.len > 0);
    struct vt_pck_ext e;
    memset(&e, 0, sizeof(e));
    vt_res r = vti_pck_ext_parse(der.p, der.len, &e);
    CHECK_OK(r);
    char hex[13];
    vti_hex_encode(e.fmspc, 6, hex);
    const char *want = json_string_value(json_object_get(ex, "fmspc"));
    CHECK(want && strcmp(hex, want) == 0);
    vti_hex_encode(e.pceid, 2, hex);
    want = json_string_value(json_object_get(ex, "pceid"));
    CHECK(want && strcmp(hex, want) == 0);
    json_t *pcesvn = json_object_get(ex, "pck_pcesvn");
    if (pcesvn)
        CHECK(e.pcesvn == json_integer_value(pcesvn));
    json_t *comps = json_object_get(ex, "pck_sgx_tcb_comps");
    if (comps) {
        CHECK(json_array_size(comps) == 16);
        int diff = 0;
        for (size_t k = 0; k < 16 && k < json_array_size(comps); k++)
            diff += e.comps[k] != json_integer_value(json_array_get(comps, k));
        CHECK(diff == 0);
    }
    /* every truncation is refused */
    int wrong = 0;
    for (size_t n = 0; n < der.len; n++)
        wrong += vti_pck_ext_parse(der.p, n, &e).err != VT_ERR_INTEL_PCK_EXT;
    CHECK(wrong == 0);
    /* the outer length and the FMSPC's length one more and one less are refused */
    CHECK(der.len > 4 && der.p[0] == 0x30 && der.p[1] == 0x82);
    size_t fl = 0;
    for (size_t i = 0; i + 12 < der.len && !fl; i++)
        if (memcmp(der.p + i, vt_pck_ext_oid_der, 9) == 0 && der.p[i + 9] == 4 &&
            der.p[i + 10] == 0x04 && der.p[i + 11] == 6)
            fl = i + 11;
    CHECK(fl > 0);
    size_t at[2] = { 3, fl };
    for (int k = 0; k < 2; k++)
        for (int dlt = -1; dlt <= 1; dlt += 2) {
            der.p[at[k]] = (uint8_t)(der.p[at[k]] + dlt);
            wrong += vti_pck_ext_parse(der.p, der.len, &e).err != VT_ERR_INTEL_PCK_EXT;
            der.p[at[k]] = (uint8_t)(der.p[at[k]] - dlt);
        }
    CHECK(wrong == 0);
    CHECK_OK(vti_pck_ext_parse(der.p, der.len, &e)); /* restored */
    if (!vti_is_ok(r) || wrong)
        fprintf(stderr, "  (case %s)\n", id ? id : "?");
    vti_buf_free_nowipe(&der);
    vti_buf_free_nowipe(&quote);
}

int main(void)
{
    good_synthetic();
    bad_synthetic();
    json_t *root = vt_test_cases();
    json_t *cases = root ? json_object_get(root, "intel") : NULL;
    CHECK(json_array_size(cases) >= 10);
    for (size_t i = 0; i < json_array_size(cases); i++)
        real_case(json_array_get(cases, i));
    json_decref(root);
    return vt_test_done();
}
