/* SPDX-License-Identifier: Apache-2.0 */
/*
 * az_evidence.c - Azure vTPM evidence JSON (see az_evidence.h).
 *
 * Read with yajl's event parser, not jansson (which every other JSON reader here uses). A new
 * az-tdx-vtpm evidence is 12.8 KB of base64url and hex strings; jansson's lexer, which copies
 * strings a byte at a time, took as long as the three signatures the whole verification needs
 * (124 us against 131 us; BENCHMARKS.md, issue 12), yajl reads it in 11 us under the same
 * rules: strict JSON, UTF-8 validated, integers apart from reals, integer overflow refused, no
 * trailing data. One pass captures the members the shapes read (the reader below); the shapes
 * then decide from those captures exactly as before (shape_v0, shape_v12). What jansson did for
 * us and yajl does not is done here: a duplicate member is refused in every object, nesting is
 * capped at MAX_DEPTH and members per object at MAX_MEMBERS (real evidence: depth 4, 4 members).
 */
#include <stddef.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "util/codec.h"
#include "verifiers/az_evidence.h"
#include "verifiers/az_memo.h"

#define MAX_DEPTH 16
#define MAX_MEMBERS 64

/* ---- captures: the members the shapes read ---------------------------------------------- */

enum vtype { V_ABSENT, V_STR, V_BYTES, V_INT, V_MAP, V_OTHER };

/* One captured member. V_BYTES: an array of integers 0..255 (their bytes in b); an array with
 * anything else in it is V_OTHER. V_STR: the decoded string, exact length. */
struct val {
    enum vtype t;
    long long i;
    struct vt_buf b;
};

enum { Q_QUOTE, Q_TPM_QUOTE, NQ }; /* v0 SNP: "quote"; every other shape: "tpm_quote" */

struct quote {
    struct val self, sig, msg, pcrs; /* pcrs: V_BYTES when an array (its items in pcr[]) */
    struct val pcr[VT_AZ_NPCRS];
    size_t npcrs;                    /* items counted, also past VT_AZ_NPCRS */
};

struct cap {
    struct val version, hcl_report, report, vcek, td_quote;
    struct quote q[NQ];
};

static void val_free(struct val *v)
{
    vti_buf_free_nowipe(&v->b);
}

static void cap_free(struct cap *c)
{
    val_free(&c->version);
    val_free(&c->hcl_report);
    val_free(&c->report);
    val_free(&c->vcek);
    val_free(&c->td_quote);
    for (int q = 0; q < NQ; q++) {
        val_free(&c->q[q].sig);
        val_free(&c->q[q].msg);
        for (size_t i = 0; i < VT_AZ_NPCRS; i++)
            val_free(&c->q[q].pcr[i]);
    }
}

/* ---- the reader: yajl events into captures ---------------------------------------------- */

enum role { R_SKIP, R_VAL, R_QUOTE, R_PCRS, R_BYTE };
enum fkind { F_TOP, F_QUOTE, F_PCRS, F_BYTES, F_SKIP_MAP, F_SKIP_ARRAY };

struct frame {
    enum fkind k;
    int q;              /* F_QUOTE, F_PCRS */
    struct val *v;      /* F_BYTES */
    size_t n;           /* array items seen, or object members */
    struct vt_buf keys; /* objects: the member names seen, each as [size_t len][bytes] */
    enum role role;     /* objects: the role of the value after the last key */
    struct val *next;   /* with role R_VAL */
};

struct rd {
    struct cap *c;
    struct frame f[MAX_DEPTH];
    int depth;
    bool nomem;
};

/* Where the value about to come goes. Counts array items. */
static enum role next_role(struct rd *r, struct val **v, int *q)
{
    struct frame *f = &r->f[r->depth - 1];
    *q = f->q;
    switch (f->k) {
    case F_TOP:
    case F_QUOTE:
        *v = f->next;
        return f->role;
    case F_PCRS: {
        size_t i = f->n++;
        *v = i < VT_AZ_NPCRS ? &r->c->q[f->q].pcr[i] : NULL;
        return *v ? R_VAL : R_SKIP;
    }
    case F_BYTES:
        *v = f->v;
        return R_BYTE;
    default:
        return R_SKIP;
    }
}

static int push(struct rd *r, enum fkind k, int q, struct val *v)
{
    if (r->depth == MAX_DEPTH)
        return 0;
    struct frame *f = &r->f[r->depth++];
    memset(f, 0, sizeof(*f));
    f->k = k;
    f->q = q;
    f->v = v;
    return 1;
}

static int pop(void *ctx)
{
    struct rd *r = ctx;
    struct frame *f = &r->f[--r->depth];
    if (f->k == F_PCRS)
        r->c->q[f->q].npcrs = f->n;
    vti_buf_free_nowipe(&f->keys);
    return 1;
}

static int scalar(struct rd *r, enum vtype t, long long i, const unsigned char *s, size_t len)
{
    struct val *v;
    int q;
    if (r->depth == 0)
        return 0; /* the document must be an object */
    switch (next_role(r, &v, &q)) {
    case R_BYTE:
        if (t != V_INT || i < 0 || i > 255)
            v->t = V_OTHER;
        else if (!vti_is_ok(vti_buf_u8(&v->b, (uint8_t)i)))
            return r->nomem = true, 0;
        return 1;
    case R_VAL:
        v->t = t;
        v->i = i;
        if (t == V_STR && len && !vti_is_ok(vti_buf_append(&v->b, s, len)))
            return r->nomem = true, 0;
        return 1;
    case R_QUOTE:
        r->c->q[q].self.t = V_OTHER;
        return 1;
    case R_PCRS:
        r->c->q[q].pcrs.t = V_OTHER;
        return 1;
    default:
        return 1;
    }
}

static int on_null(void *ctx) { return scalar(ctx, V_OTHER, 0, NULL, 0); }
static int on_bool(void *ctx, int b) { return (void)b, scalar(ctx, V_OTHER, 0, NULL, 0); }
static int on_int(void *ctx, long long i) { return scalar(ctx, V_INT, i, NULL, 0); }
static int on_double(void *ctx, double d) { return (void)d, scalar(ctx, V_OTHER, 0, NULL, 0); }
static int on_string(void *ctx, const unsigned char *s, size_t len)
{
    return scalar(ctx, V_STR, 0, s, len);
}

static int on_start_map(void *ctx)
{
    struct rd *r = ctx;
    struct val *v;
    int q;
    if (r->depth == 0)
        return push(r, F_TOP, 0, NULL);
    enum role role = next_role(r, &v, &q);
    if (role == R_QUOTE) {
        r->c->q[q].self.t = V_MAP;
        return push(r, F_QUOTE, q, NULL);
    }
    if (role == R_PCRS)
        r->c->q[q].pcrs.t = V_OTHER;
    else if (role != R_SKIP)
        v->t = V_OTHER;
    return push(r, F_SKIP_MAP, 0, NULL);
}

static int on_start_array(void *ctx)
{
    struct rd *r = ctx;
    struct val *v;
    int q;
    if (r->depth == 0)
        return 0;
    switch (next_role(r, &v, &q)) {
    case R_VAL:
        v->t = V_BYTES;
        v->b.max = VT_AZ_MAX_EVIDENCE;
        return push(r, F_BYTES, 0, v);
    case R_PCRS:
        r->c->q[q].pcrs.t = V_BYTES;
        return push(r, F_PCRS, q, NULL);
    case R_QUOTE:
        r->c->q[q].self.t = V_OTHER;
        break;
    case R_BYTE:
        v->t = V_OTHER;
        break;
    default:
        break;
    }
    return push(r, F_SKIP_ARRAY, 0, NULL);
}

static bool key_is(const unsigned char *k, size_t len, const char *name)
{
    return len == strlen(name) && memcmp(k, name, len) == 0; /* lint: public (member name) */
}

/* Refuses a name seen before in this object, and objects of more than MAX_MEMBERS. */
static int key_new(struct rd *r, struct frame *f, const unsigned char *k, size_t len)
{
    for (size_t o = 0; o < f->keys.len;) {
        size_t n;
        memcpy(&n, f->keys.p + o, sizeof(n));
        if (n == len && memcmp(f->keys.p + o + sizeof(n), k, len) == 0) /* lint: public */
            return 0;
        o += sizeof(n) + n;
    }
    if (++f->n > MAX_MEMBERS)
        return 0;
    if (!vti_is_ok(vti_buf_append(&f->keys, &len, sizeof(len))) ||
        !vti_is_ok(vti_buf_append(&f->keys, k, len)))
        return r->nomem = true, 0;
    return 1;
}

static void top_member(struct cap *c, struct frame *f, const unsigned char *k, size_t len)
{
    static const struct { const char *name; size_t off; } vals[] = {
        { "version", offsetof(struct cap, version) },
        { "hcl_report", offsetof(struct cap, hcl_report) },
        { "report", offsetof(struct cap, report) },
        { "vcek", offsetof(struct cap, vcek) },
        { "td_quote", offsetof(struct cap, td_quote) },
    };
    f->q = key_is(k, len, "quote") ? Q_QUOTE : Q_TPM_QUOTE;
    f->role = key_is(k, len, "quote") || key_is(k, len, "tpm_quote") ? R_QUOTE : R_SKIP;
    for (size_t i = 0; f->role == R_SKIP && i < sizeof(vals) / sizeof(vals[0]); i++) {
        if (key_is(k, len, vals[i].name)) {
            f->role = R_VAL;
            f->next = (struct val *)(void *)((char *)c + vals[i].off);
        }
    }
}

static void quote_member(struct quote *q, struct frame *f, const unsigned char *k, size_t len)
{
    f->role = R_VAL;
    if (key_is(k, len, "signature"))
        f->next = &q->sig;
    else if (key_is(k, len, "message"))
        f->next = &q->msg;
    else
        f->role = key_is(k, len, "pcrs") ? R_PCRS : R_SKIP;
}

static int on_key(void *ctx, const unsigned char *k, size_t len)
{
    struct rd *r = ctx;
    struct frame *f = &r->f[r->depth - 1];
    if (!key_new(r, f, k, len))
        return 0;
    f->role = R_SKIP;
    f->next = NULL;
    if (f->k == F_TOP)
        top_member(r->c, f, k, len);
    else if (f->k == F_QUOTE)
        quote_member(&r->c->q[f->q], f, k, len);
    return 1;
}

static const yajl_callbacks events = {
    on_null, on_bool, on_int, on_double, NULL, on_string,
    on_start_map, on_key, pop, on_start_array, pop,
};

/* One pass over the document into c. VT_ERR_AZ_EVIDENCE_JSON: not one strict-JSON object
 * within the caps. */
static vt_res read_doc(const uint8_t *p, size_t len, struct cap *c)
{
    memset(c, 0, sizeof(*c));
    ENSURE(len <= VT_AZ_MAX_EVIDENCE, VT_ERR_AZ_EVIDENCE_JSON);
    struct rd r = { .c = c };
    yajl_handle h = yajl_alloc(&events, NULL, &r);
    ENSURE(h, VT_ERR_NOMEM);
    bool ok = yajl_parse(h, p, len) == yajl_status_ok && yajl_complete_parse(h) == yajl_status_ok;
    yajl_free(h);
    while (r.depth > 0)
        pop(&r);
    if (ok)
        return vti_ok();
    cap_free(c);
    return VT_FAIL(r.nomem ? VT_ERR_NOMEM : VT_ERR_AZ_EVIDENCE_JSON);
}

/* ---- the shapes, from the captures ------------------------------------------------------ */

enum enc { ENC_ARRAY, ENC_HEX, ENC_B64URL };

static vt_res field(struct val *v, enum enc enc, size_t max, struct vt_buf *out)
{
    out->len = 0;
    out->max = max;
    if (enc == ENC_ARRAY) {
        ENSURE(v->t == V_BYTES && v->b.len <= max, VT_ERR_AZ_EVIDENCE_FIELD);
        vti_buf_free_nowipe(out);
        *out = v->b; /* moved */
        out->max = max;
        v->b = (struct vt_buf)VT_BUF_INIT;
        return vti_ok();
    }
    ENSURE(v->t == V_STR, VT_ERR_AZ_EVIDENCE_FIELD);
    const char *s = v->b.p ? (const char *)v->b.p : "";
    vt_res r = enc == ENC_HEX ? vti_hex_decode(s, v->b.len, out) :
               vti_b64_decode(s, v->b.len, true, out);
    ENSURE(vti_is_ok(r), VT_ERR_AZ_EVIDENCE_FIELD);
    return vti_ok();
}

static vt_res tpm_quote(struct quote *q, enum enc enc, struct vti_az_ev *ev)
{
    ENSURE(q->self.t == V_MAP, VT_ERR_AZ_EVIDENCE_JSON);
    GUARD(field(&q->sig, enc, 1024, &ev->sig));
    GUARD(field(&q->msg, enc, 1024, &ev->msg));
    ENSURE(q->pcrs.t == V_BYTES && q->npcrs == VT_AZ_NPCRS, VT_ERR_AZ_PCRS);
    for (size_t i = 0; i < VT_AZ_NPCRS; i++) {
        struct vt_buf b = VT_BUF_INIT;
        vt_res r = field(&q->pcr[i], enc, 32, &b);
        bool ok = vti_is_ok(r) && b.len == 32;
        if (ok)
            memcpy(ev->pcrs[i], b.p, 32);
        vti_buf_free_nowipe(&b);
        ENSURE(ok, VT_ERR_AZ_PCRS);
    }
    return vti_ok();
}

static vt_res shape_v0(struct cap *c, struct vti_az_ev *ev)
{
    ev->version = 0;
    if (c->td_quote.t != V_ABSENT) {
        ev->tdx = true;
        GUARD(tpm_quote(&c->q[Q_TPM_QUOTE], ENC_ARRAY, ev));
        GUARD(field(&c->hcl_report, ENC_ARRAY, 64 * 1024, &ev->hcl));
        return field(&c->td_quote, ENC_ARRAY, 64 * 1024, &ev->td_quote);
    }
    GUARD(tpm_quote(&c->q[Q_QUOTE], ENC_ARRAY, ev));
    GUARD(field(&c->report, ENC_ARRAY, 64 * 1024, &ev->hcl));
    ENSURE(c->vcek.t == V_STR && c->vcek.b.len <= 64 * 1024, VT_ERR_AZ_EVIDENCE_FIELD);
    ev->vcek_pem = true;
    return vti_buf_append(&ev->vcek, c->vcek.b.p, c->vcek.b.len);
}

static vt_res shape_v12(struct cap *c, struct vti_az_ev *ev)
{
    ENSURE(c->version.t == V_INT && (c->version.i == 1 || c->version.i == 2),
           VT_ERR_AZ_EVIDENCE_VERSION);
    ev->version = (int)c->version.i;
    GUARD(tpm_quote(&c->q[Q_TPM_QUOTE], ENC_HEX, ev));
    GUARD(field(&c->hcl_report, ENC_B64URL, 64 * 1024, &ev->hcl));
    if (c->td_quote.t != V_ABSENT) {
        ev->tdx = true;
        return field(&c->td_quote, ENC_B64URL, 64 * 1024, &ev->td_quote);
    }
    return field(&c->vcek, ENC_B64URL, 64 * 1024, &ev->vcek);
}

/* The shapes, from the captures of a document that read well. */
static vt_res from_cap(struct cap *c, struct vti_az_ev *ev)
{
    memset(ev, 0, sizeof(*ev));
    vt_res r = c->version.t != V_ABSENT ? shape_v12(c, ev) : shape_v0(c, ev);
    if (!vti_is_ok(r))
        vti_az_evidence_free(ev);
    return r;
}

vt_res vti_az_evidence_parse(const uint8_t *p, size_t len, struct vti_az_ev *ev)
{
    struct cap c;
    memset(ev, 0, sizeof(*ev));
    GUARD(read_doc(p, len, &c));
    vt_res r = from_cap(&c, ev);
    cap_free(&c);
    return r;
}

void vti_az_evidence_free(struct vti_az_ev *ev)
{
    vti_buf_free_nowipe(&ev->sig);
    vti_buf_free_nowipe(&ev->msg);
    vti_buf_free_nowipe(&ev->hcl);
    vti_buf_free_nowipe(&ev->vcek);
    vti_buf_free_nowipe(&ev->td_quote);
}

/* The members present decide the kind of a document that reads but is no valid evidence (it
 * names its parts, so it goes to its verifier for its own error). */
static int kind_by_members(const struct cap *c)
{
    bool hcl = c->hcl_report.t != V_ABSENT || c->report.t != V_ABSENT;
    bool tpm = c->q[Q_TPM_QUOTE].self.t != V_ABSENT || c->q[Q_QUOTE].self.t != V_ABSENT;
    if (!hcl || !tpm)
        return 0;
    return c->td_quote.t != V_ABSENT ? 2 : c->vcek.t != V_ABSENT ? 1 : 0;
}

/* The shape test of accepts(): the kind of a memoized parse (az_memo.c); else the document is
 * parsed and, when it parses, kept for the verify() that follows (input detection asks every
 * verifier, so this saves two parses of a new evidence); else the members present decide. */
int vti_az_evidence_kind(const uint8_t *p, size_t len)
{
    int kind = vti_az_memo_kind(p, len);
    if (kind)
        return kind;
    struct cap c;
    if (!vti_is_ok(read_doc(p, len, &c)))
        return 0;
    struct vti_az_ev ev;
    if (len <= VT_AZ_MEMO_MAX_EVIDENCE && vti_is_ok(from_cap(&c, &ev))) {
        kind = ev.tdx ? 2 : 1;
        vti_az_memo_put_evidence(p, len, &ev);
        vti_az_evidence_free(&ev);
    } else {
        kind = kind_by_members(&c);
    }
    cap_free(&c);
    return kind;
}
