/* SPDX-License-Identifier: Apache-2.0 */
/*
 * amd_chain.c - verification of the AMD SEV-SNP certificate chain and its cache.
 *
 * Owns: choosing ARK / ASK (or ASVK) / VCEK (or VLEK) among untrusted candidate certificates,
 * checking the trust anchor (pinned AMD ARK by key, or an explicitly given extra root, which
 * makes the result insecure), the RSASSA-PSS SHA-384 (MGF1-SHA-384, salt 48) signatures,
 * names, validity at the given time, the key type (ECDSA P-384) and the product line.
 * Spec: AMD 57230 (VCEK certificate and KDS interface), ../shared/FORMATS.md section 5.
 * Trust boundary: inputs are untrusted; the output key is trusted only when this returns OK.
 * The cache holds only successful results and is keyed on the exact input bytes.
 */
#include "endorsements/amd_chain.h"

#include <openssl/ec.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <string.h>

#include "util/codec.h"
#include "util/secmem.h"

struct parsed {
    X509 *x;
    enum vt_amd_role role;
    enum vt_snp_product product;
    const struct vt_buf *der;
    bool is_root; /* from the extra roots */
};

static void cn_of(X509_NAME *n, char out[64])
{
    out[0] = 0;
    if (X509_NAME_get_text_by_NID(n, NID_commonName, out, 64) < 0)
        out[0] = 0;
}

/* RSASSA-PSS with SHA-384, MGF1-SHA-384, salt length 48 (AMD's only signature scheme). */
static bool sig_alg_ok(X509 *x)
{
    const X509_ALGOR *alg = NULL;
    const ASN1_OBJECT *obj;
    int ptype;
    const void *pval;
    X509_get0_signature(NULL, &alg, x);
    if (!alg)
        return false;
    X509_ALGOR_get0(&obj, &ptype, &pval, alg);
    if (OBJ_obj2nid(obj) != NID_rsassaPss || ptype != V_ASN1_SEQUENCE || !pval)
        return false;
    const ASN1_STRING *seq = pval;
    const unsigned char *q = ASN1_STRING_get0_data(seq);
    RSA_PSS_PARAMS *pp = d2i_RSA_PSS_PARAMS(NULL, &q, ASN1_STRING_length(seq));
    if (!pp)
        return false;
    bool ok = pp->hashAlgorithm && OBJ_obj2nid(pp->hashAlgorithm->algorithm) == NID_sha384 &&
              pp->saltLength && ASN1_INTEGER_get(pp->saltLength) == 48 &&
              pp->maskGenAlgorithm &&
              OBJ_obj2nid(pp->maskGenAlgorithm->algorithm) == NID_mgf1 &&
              (!pp->trailerField || ASN1_INTEGER_get(pp->trailerField) == 1);
    if (ok) {
        const ASN1_TYPE *mp = pp->maskGenAlgorithm->parameter;
        ok = mp && mp->type == V_ASN1_SEQUENCE;
        if (ok) {
            const unsigned char *m = ASN1_STRING_get0_data(mp->value.sequence);
            X509_ALGOR *mh = d2i_X509_ALGOR(NULL, &m, ASN1_STRING_length(mp->value.sequence));
            ok = mh && OBJ_obj2nid(mh->algorithm) == NID_sha384;
            X509_ALGOR_free(mh);
        }
    }
    RSA_PSS_PARAMS_free(pp);
    return ok;
}

/* issuer signed x: algorithm, names, signature. */
static vt_res check_signed_by(X509 *x, X509 *issuer, int sig_err, struct vt_report *rep,
                              const char *what)
{
    char cn[64], icn[64];
    cn_of(X509_get_subject_name(x), cn);
    cn_of(X509_get_subject_name(issuer), icn);
    bool alg = sig_alg_ok(x);
    vti_report_step(rep, alg, "%s %s signature algorithm RSASSA-PSS SHA-384 (MGF1 SHA-384, salt 48): %s",
                    what, cn, alg ? "ok" : "no");
    ENSURE(alg, VT_ERR_SNP_CERT_ALGO);
    bool names = X509_NAME_cmp(X509_get_issuer_name(x), X509_get_subject_name(issuer)) == 0;
    vti_report_step(rep, names, "%s %s issuer name equals %s subject: %s", what, cn, icn,
                    names ? "ok" : "no");
    ENSURE(names, VT_ERR_SNP_CERT_NAME);
    EVP_PKEY *ik = X509_get0_pubkey(issuer);
    bool sig = ik && X509_verify(x, ik) == 1;
    vti_report_step(rep, sig, "%s %s signed by %s: %s", what, cn, icn, sig ? "ok" : "invalid");
    ENSURE(sig, sig_err);
    return vti_ok();
}

static vt_res check_time(X509 *x, int64_t at, struct vt_report *rep, int64_t *nb_max,
                         int64_t *na_min)
{
    char cn[64], a[32], b[32], t[32];
    int64_t nb, na;
    cn_of(X509_get_subject_name(x), cn);
    int e = vti_amd_cert_time_check(x, at, &nb, &na);
    vti_time_format(nb, a);
    vti_time_format(na, b);
    vti_time_format(at, t);
    vti_report_step(rep, e == 0, "%s valid %s .. %s at %s: %s", cn, a, b, t,
                    e == 0 ? "ok" : (e == VT_ERR_SNP_CERT_EXPIRED ? "expired" : "not yet valid"));
    ENSURE(e == 0, e);
    if (nb > *nb_max)
        *nb_max = nb;
    if (na < *na_min)
        *na_min = na;
    return vti_ok();
}

static bool tcb_eq(const struct vt_amd_key_ext *e, uint64_t reported, enum vt_snp_product p)
{
    struct vt_snp_tcb t = vti_snp_tcb_split(reported, p);
    bool ok = t.bl == e->bl && t.tee == e->tee && t.snp == e->snp && t.ucode == e->ucode;
    if (p == VT_SNP_PRODUCT_TURIN)
        ok = ok && e->has_fmc && t.fmc == e->fmc;
    return ok;
}

/* ---- cache ------------------------------------------------------------------------------- */

#define CACHE_SLOTS 32

struct cache_entry {
    bool used;
    uint8_t key[32];
    struct vt_amd_chain_out out; /* out.key holds one reference */
};

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static struct cache_entry cache[CACHE_SLOTS];
static size_t cache_next;
static bool cache_on = true;

void vti_amd_chain_cache_clear(void)
{
    pthread_mutex_lock(&cache_mu);
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        EVP_PKEY_free(cache[i].out.key);
        memset(&cache[i], 0, sizeof(cache[i]));
    }
    cache_next = 0;
    pthread_mutex_unlock(&cache_mu);
}

bool vti_amd_chain_cache_enable(bool on)
{
    pthread_mutex_lock(&cache_mu);
    bool prev = cache_on;
    cache_on = on;
    pthread_mutex_unlock(&cache_mu);
    return prev;
}

static void hash_blobs(EVP_MD_CTX *h, const struct vt_amd_blobs *b)
{
    uint8_t n[8];
    size_t cnt = b ? b->n : 0;
    for (int i = 0; i < 8; i++)
        n[i] = (uint8_t)((uint64_t)cnt >> (8 * i));
    EVP_DigestUpdate(h, n, 8);
    for (size_t i = 0; i < cnt; i++) {
        uint64_t l = b->der[i].len;
        for (int k = 0; k < 8; k++)
            n[k] = (uint8_t)(l >> (8 * k));
        EVP_DigestUpdate(h, n, 8);
        EVP_DigestUpdate(h, b->der[i].p, b->der[i].len);
    }
}

static bool cache_key(const struct vt_amd_chain_in *in, uint8_t key[32])
{
    EVP_MD_CTX *h = EVP_MD_CTX_new();
    uint8_t sel[2 + 8];
    unsigned int klen = 0;
    if (!h || EVP_DigestInit_ex(h, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(h);
        return false;
    }
    EVP_DigestUpdate(h, "veritee-amd-chain-1", 19);
    hash_blobs(h, in->certs);
    hash_blobs(h, in->roots);
    sel[0] = (uint8_t)in->signer;
    sel[1] = (uint8_t)in->product;
    for (int i = 0; i < 8; i++)
        sel[2 + i] = (uint8_t)(in->reported_tcb >> (8 * i));
    EVP_DigestUpdate(h, sel, sizeof(sel));
    EVP_DigestUpdate(h, in->chip_id, 64);
    bool ok = EVP_DigestFinal_ex(h, key, &klen) == 1 && klen == 32;
    EVP_MD_CTX_free(h);
    return ok;
}

static bool cache_get(const uint8_t key[32], int64_t at, struct vt_amd_chain_out *out)
{
    bool hit = false;
    pthread_mutex_lock(&cache_mu);
    if (cache_on) {
        for (size_t i = 0; i < CACHE_SLOTS; i++) {
            struct cache_entry *e = &cache[i];
            if (e->used && vti_ct_eq(e->key, key, 32) && at >= e->out.not_before &&
                at <= e->out.not_after && EVP_PKEY_up_ref(e->out.key) == 1) {
                *out = e->out;
                out->cached = true;
                hit = true;
                break;
            }
        }
    }
    pthread_mutex_unlock(&cache_mu);
    return hit;
}

static void cache_put(const uint8_t key[32], const struct vt_amd_chain_out *out)
{
    pthread_mutex_lock(&cache_mu);
    if (cache_on && EVP_PKEY_up_ref(out->key) == 1) {
        struct cache_entry *e = NULL;
        for (size_t i = 0; i < CACHE_SLOTS && !e; i++)
            if (cache[i].used && vti_ct_eq(cache[i].key, key, 32))
                e = &cache[i];
        if (!e) {
            e = &cache[cache_next];
            cache_next = (cache_next + 1) % CACHE_SLOTS;
        }
        EVP_PKEY_free(e->out.key);
        e->used = true;
        memcpy(e->key, key, 32);
        e->out = *out;
        e->out.cached = false;
    }
    pthread_mutex_unlock(&cache_mu);
}

/* ---- verification -------------------------------------------------------------------------- */

void vti_amd_chain_out_free(struct vt_amd_chain_out *out)
{
    if (!out)
        return;
    EVP_PKEY_free(out->key);
    out->key = NULL;
}

static vt_res parse_all(const struct vt_amd_blobs *b, bool is_root, struct parsed *ps,
                        size_t *n, size_t max)
{
    for (size_t i = 0; b && i < b->n; i++) {
        ENSURE(*n < max, VT_ERR_SNP_TOO_MANY_CERTS);
        const unsigned char *q = b->der[i].p;
        X509 *x = d2i_X509(NULL, &q, (long)b->der[i].len);
        ENSURE(x && q == b->der[i].p + b->der[i].len, VT_ERR_SNP_CERT_PARSE);
        struct parsed *p = &ps[(*n)++];
        p->x = x;
        p->der = &b->der[i];
        p->is_root = is_root;
        vti_amd_classify(x, &p->role, &p->product);
    }
    return vti_ok();
}

/* The candidate for the key certificate (VCEK / VLEK): right role, right product; prefers
 * hwID and TCB matches. Returns NULL when none is usable; *other is then a product seen with
 * the right role but the wrong product line, *n_role the count of candidates with the role. */
static struct parsed *pick_key(const struct vt_amd_chain_in *in, struct parsed *ps, size_t n,
                               enum vt_amd_role key_role, struct vt_amd_key_ext *kext,
                               size_t *n_role, enum vt_snp_product *other)
{
    struct parsed *key = NULL;
    int best = -1;
    for (size_t i = 0; i < n; i++) {
        if (ps[i].role != key_role || ps[i].is_root)
            continue;
        (*n_role)++;
        if (in->product != VT_SNP_PRODUCT_UNKNOWN && ps[i].product != in->product) {
            *other = ps[i].product;
            continue;
        }
        struct vt_amd_key_ext e;
        if (!vti_is_ok(vti_amd_key_ext_parse(ps[i].x, &e)))
            continue;
        int score = 0;
        if (key_role == VT_AMD_VCEK && e.hwid_len > 0 && vti_ct_eq(e.hwid, in->chip_id, e.hwid_len))
            score += 2;
        if (tcb_eq(&e, in->reported_tcb, ps[i].product))
            score += 1;
        if (score > best) {
            best = score;
            key = &ps[i];
            *kext = e;
        }
    }
    return key;
}

/* Step 1: select the key certificate and check its productName against its issuer product. */
static vt_res select_key(const struct vt_amd_chain_in *in, struct parsed *ps, size_t n,
                         enum vt_amd_role key_role, struct vt_report *rep, struct parsed **ret_key,
                         struct vt_amd_key_ext *kext, struct vt_amd_chain_out *out)
{
    const char *kname = vti_amd_role_name(key_role);
    size_t n_role = 0;
    enum vt_snp_product other = VT_SNP_PRODUCT_UNKNOWN;
    struct parsed *key = pick_key(in, ps, n, key_role, kext, &n_role, &other);
    if (!key) {
        if (other != VT_SNP_PRODUCT_UNKNOWN) {
            vti_report_step(rep, 0, "%s certificate for product %s: only %s found", kname,
                            vti_snp_product_name(in->product), vti_snp_product_name(other));
            return VT_FAIL(VT_ERR_SNP_PRODUCT_MISMATCH);
        }
        vti_report_step(rep, 0, "%s certificate among %zu candidates (%zu with that role): none usable",
                        kname, n, n_role);
        if (n_role > 0)
            return VT_FAIL(VT_ERR_SNP_CERT_EXT);
        return VT_FAIL(VT_ERR_SNP_NO_KEY_CERT);
    }
    enum vt_snp_product product = key->product;
    cn_of(X509_get_subject_name(key->x), out->key_cn);
    vti_report_step(rep, 1, "%s certificate selected (%s, product %s, productName \"%s\")", kname,
                    out->key_cn, vti_snp_product_name(product), kext->product_name);
    bool pn = kext->product == product;
    vti_report_step(rep, pn, "%s productName \"%s\" agrees with issuer product %s: %s", kname,
                    kext->product_name, vti_snp_product_name(product), pn ? "ok" : "no");
    ENSURE(pn, VT_ERR_SNP_PRODUCT_MISMATCH);
    *ret_key = key;
    return vti_ok();
}

/* Steps 2 and 3: the certificate of the given role and product whose subject is child's issuer. */
static struct parsed *find_issuer(struct parsed *ps, size_t n, enum vt_amd_role role,
                                  enum vt_snp_product product, const struct parsed *child)
{
    for (size_t i = 0; i < n; i++)
        if (ps[i].role == role && ps[i].product == product &&
            X509_NAME_cmp(X509_get_subject_name(ps[i].x), X509_get_issuer_name(child->x)) == 0)
            return &ps[i];
    return NULL;
}

/* Step 4: trust anchor: pinned AMD key, else an extra root given by the caller (insecure). */
static vt_res check_anchor(const struct parsed *ark, const struct parsed *ps, size_t n,
                           enum vt_snp_product product, struct vt_report *rep,
                           struct vt_amd_chain_out *out)
{
    bool pinned = vti_amd_ark_pinned(ark->x, product);
    bool given = false;
    if (!pinned) {
        EVP_PKEY *ak = X509_get0_pubkey(ark->x);
        for (size_t i = 0; i < n && !given; i++)
            if (ps[i].is_root && ak && EVP_PKEY_eq(X509_get0_pubkey(ps[i].x), ak) == 1 &&
                X509_NAME_cmp(X509_get_subject_name(ps[i].x), X509_get_subject_name(ark->x)) == 0)
                given = true;
    }
    vti_report_step(rep, pinned || given, "ARK %s is %s", out->ark_cn,
                    pinned ? "the pinned AMD root key" :
                    given ? "an explicitly given root (not AMD: insecure)" :
                            "neither a pinned AMD root nor a given root");
    ENSURE(pinned || given, VT_ERR_SNP_ARK_NOT_TRUSTED);
    out->insecure = !pinned;
    return vti_ok();
}

/* Step 7: the key is ECDSA P-384; on success *ret_pk holds a new reference. */
static vt_res check_key_type(const struct parsed *key, const char *kname, struct vt_report *rep,
                             EVP_PKEY **ret_pk)
{
    EVP_PKEY *pk = X509_get0_pubkey(key->x);
    char gname[64] = "";
    size_t glen = 0;
    bool p384 = pk && EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC &&
                EVP_PKEY_get_utf8_string_param(pk, "group", gname, sizeof(gname), &glen) == 1 &&
                strcmp(gname, "secp384r1") == 0;
    vti_report_step(rep, p384, "%s key is ECDSA P-384: %s", kname, p384 ? "ok" : gname);
    ENSURE(p384, VT_ERR_SNP_KEY_TYPE);
    ENSURE(EVP_PKEY_up_ref(pk) == 1, VT_ERR_CRYPTO);
    *ret_pk = pk;
    return vti_ok();
}

static vt_res verify_full(const struct vt_amd_chain_in *in, struct parsed *ps, size_t n,
                          struct vt_report *rep, struct vt_amd_chain_out *out)
{
    enum vt_amd_role key_role = in->signer == VT_SNP_SIGNER_VLEK ? VT_AMD_VLEK : VT_AMD_VCEK;
    enum vt_amd_role mid_role = in->signer == VT_SNP_SIGNER_VLEK ? VT_AMD_ASVK : VT_AMD_ASK;
    const char *kname = vti_amd_role_name(key_role), *mname = vti_amd_role_name(mid_role);

    /* 1. the key certificate */
    struct parsed *key = NULL;
    struct vt_amd_key_ext kext;
    GUARD(select_key(in, ps, n, key_role, rep, &key, &kext, out));
    enum vt_snp_product product = key->product;

    /* 2. the ASK / ASVK that issued it */
    struct parsed *mid = find_issuer(ps, n, mid_role, product, key);
    vti_report_step(rep, mid != NULL, "%s certificate for %s: %s", mname,
                    vti_snp_product_name(product), mid ? "found" : "missing");
    ENSURE(mid, VT_ERR_SNP_NO_ASK);
    cn_of(X509_get_subject_name(mid->x), out->ask_cn);

    /* 3. the ARK that issued the ASK */
    struct parsed *ark = find_issuer(ps, n, VT_AMD_ARK, product, mid);
    vti_report_step(rep, ark != NULL, "ARK certificate for %s: %s", vti_snp_product_name(product),
                    ark ? "found" : "missing");
    ENSURE(ark, VT_ERR_SNP_NO_ARK);
    cn_of(X509_get_subject_name(ark->x), out->ark_cn);

    /* 4. trust anchor */
    GUARD(check_anchor(ark, ps, n, product, rep, out));

    /* 5. signatures and names */
    GUARD(check_signed_by(ark->x, ark->x, VT_ERR_SNP_ARK_SIGNATURE, rep, "ARK"));
    GUARD(check_signed_by(mid->x, ark->x, VT_ERR_SNP_ASK_SIGNATURE, rep, mname));
    GUARD(check_signed_by(key->x, mid->x, VT_ERR_SNP_KEY_CERT_SIGNATURE, rep, kname));

    /* 6. validity at the verification time */
    int64_t nb = INT64_MIN, na = INT64_MAX;
    GUARD(check_time(ark->x, in->at, rep, &nb, &na));
    GUARD(check_time(mid->x, in->at, rep, &nb, &na));
    GUARD(check_time(key->x, in->at, rep, &nb, &na));

    /* 7. key type */
    GUARD(check_key_type(key, kname, rep, &out->key));
    out->ext = kext;
    out->product = product;
    out->not_before = nb;
    out->not_after = na;
    return vti_ok();
}

vt_res vti_amd_chain_verify(const struct vt_amd_chain_in *in, struct vt_report *rep,
                            struct vt_amd_chain_out *out)
{
    memset(out, 0, sizeof(*out));
    ENSURE(in && in->certs && in->chip_id, VT_ERR_INVALID_ARG);
    uint8_t key[32];
    bool have_key = cache_key(in, key);
    if (have_key && cache_get(key, in->at, out)) {
        char a[32], b[32];
        vti_time_format(out->not_before, a);
        vti_time_format(out->not_after, b);
        vti_report_step(rep, 1, "AMD chain %s -> %s -> %s (product %s%s): verified earlier for these "
                        "exact certificates, valid %s .. %s (cached)", out->ark_cn, out->ask_cn,
                        out->key_cn, vti_snp_product_name(out->product),
                        out->insecure ? ", given root: insecure" : "", a, b);
        return vti_ok();
    }
    struct parsed ps[2 * VT_AMD_MAX_CERTS];
    size_t n = 0;
    vt_res r = parse_all(in->certs, false, ps, &n, VT_ARRAY_LEN(ps));
    if (vti_is_ok(r))
        r = parse_all(in->roots, true, ps, &n, VT_ARRAY_LEN(ps));
    if (!vti_is_ok(r))
        vti_report_step(rep, 0, "parse AMD certificates: %s", vt_strerror(r.err));
    if (vti_is_ok(r))
        r = verify_full(in, ps, n, rep, out);
    for (size_t i = 0; i < n; i++)
        X509_free(ps[i].x);
    if (vti_is_ok(r) && have_key)
        cache_put(key, out);
    else
        vti_amd_chain_out_free(out);
    return r;
}
