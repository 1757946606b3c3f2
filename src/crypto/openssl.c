/* SPDX-License-Identifier: Apache-2.0 */
/*
 * openssl.c - the "openssl" crypto backend (priority 100): key generation, SPKI, digests,
 * signatures, X.509 certificate building/parsing and chain verification with OpenSSL 3.
 *
 * Trust boundary: cert_parse, verify and chain_verify see attacker-controlled bytes (peer
 * certificates, sim evidence). DER inputs must be consumed completely; OpenSSL results count
 * as success only when they equal 1 (X509_sign: > 0). Private keys cross the interface as
 * PKCS#8 DER; every temporary DER copy of a key is wiped (OPENSSL_clear_free / vti_buf_free).
 *
 * Memo caches (the attested-TLS hot path; ../shared/DESIGN.md section 5: "chain checks of
 * unchanged collateral are cached, so steady-state cost per quote is the hardware
 * signatures"). OpenSSL 3.0 decodes every public key it meets (d2i_X509, d2i_PUBKEY) through
 * an OSSL_DECODER chain that is built afresh per call and costs more than an ECDSA verify, so
 * a handshake that re-parses the same peer, attestation-key and root certificates spends most
 * of its time there. Five bounded, mutex-guarded, process-wide caches avoid that:
 *   - public keys: SHA-256(SPKI DER) -> EVP_PKEY (shared read-only, reference counted);
 *     a certificate parse also offers the key OpenSSL decoded with it (key_memo_offer);
 *   - parsed certificates: SHA-256(certificate DER) and the parse flags -> struct
 *     vt_cert_info (deep copies out);
 *   - parsed X509 objects: SHA-256(certificate DER) -> X509 (shared read-only, reference
 *     counted), so that one certificate is decoded once even when a first contact needs it
 *     both for its fields and in a chain check;
 *   - trust anchors: SHA-256(every root certificate DER, in order) -> a complete X509_STORE
 *     (shared read-only, reference counted), used when a chain is not in the next cache;
 *   - chain verifications: SHA-256(every chain and root certificate DER, in order) -> the
 *     time window [max notBefore, min notAfter] of the path OpenSSL validated.
 * Why this is sound: key decoding, certificate parsing (including the self-signature check
 * recorded in self_sig_ok when VT_CERT_PARSE_SELF_SIG asks for it) and building a store of
 * anchors are pure functions of the input bytes (and flags), and the key is a
 * collision-resistant hash of exactly those bytes (and flags). A chain verification without
 * CRLs depends on the bytes and on the time only through the validity periods of the
 * certificates of the path, so a success at time t proves success at every time strictly
 * inside that path's window; a hit is taken only strictly inside it. Only successes are
 * cached: a failure (unparsable, untrusted, tampered, different root, outside the window) is
 * always recomputed by OpenSSL, so a cache can never turn a failure into a success. Entries
 * are evicted least recently used; an attacker who floods the caches only makes later calls
 * take the slow path. The trust-anchor stores hold configuration (the verifier's roots), the
 * other caches peer input: vti_ossl_memo_flush_peer() empties only the latter (a never-seen
 * peer's cost).
 */
#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "crypto/openssl_memo.h"
#include "crypto/ossl_util.h"
#include "util/codec.h"
#include "util/secmem.h"

/* ---- memo caches (see the top of the file) ---------------------------------------------- */

#define MEMO_KEYS 64
#define MEMO_CERTS 32
#define MEMO_CHAINS 64
#define MEMO_ID_LEN 32

struct memo_hdr {
    bool used;
    uint64_t last; /* LRU stamp */
    uint8_t id[MEMO_ID_LEN];
};
struct key_slot {
    struct memo_hdr h;
    EVP_PKEY *pk;
};
struct cert_slot {
    struct memo_hdr h;
    struct vt_cert_info *info;
};
struct chain_slot {
    struct memo_hdr h;
    int64_t lo, hi; /* the validated path's certificates are all valid strictly inside */
};

struct store_slot {
    struct memo_hdr h;
    X509_STORE *st; /* trust anchors; shared by concurrent verifications like an SSL_CTX's */
};

#define MEMO_STORES 16
#define MEMO_X509 16

/* Parsed X509 objects (shared read-only, reference counted): a first contact parses the
 * attestation-key certificate once for its fields and again for the chain check (and the
 * anchors once more for their store); each d2i_X509 costs an OpenSSL 3.0 decoder chain. */
struct x509_slot {
    struct memo_hdr h;
    X509 *x;
};
static struct x509_slot x509_memo[MEMO_X509];

static pthread_mutex_t memo_lock = PTHREAD_MUTEX_INITIALIZER;
static struct store_slot store_memo[MEMO_STORES];
static uint64_t memo_tick;
static struct key_slot key_memo[MEMO_KEYS];
static struct cert_slot cert_memo[MEMO_CERTS];
static struct chain_slot chain_memo[MEMO_CHAINS];
static struct vti_ossl_memo_stats memo_count;

/* Index of the slot with this id, or n. Caller holds memo_lock. */
static size_t memo_find(struct memo_hdr *h0, size_t n, size_t stride, const uint8_t *id)
{
    for (size_t i = 0; i < n; i++) {
        struct memo_hdr *h = (struct memo_hdr *)((char *)h0 + i * stride);
        if (h->used && memcmp(h->id, id, MEMO_ID_LEN) == 0) { /* lint: public (hash of public bytes) */
            h->last = ++memo_tick;
            return i;
        }
    }
    return n;
}

/* An unused slot, else the least recently used one. Caller holds memo_lock. */
static size_t memo_victim(struct memo_hdr *h0, size_t n, size_t stride)
{
    size_t best = 0;
    uint64_t oldest = UINT64_MAX;
    for (size_t i = 0; i < n; i++) {
        struct memo_hdr *h = (struct memo_hdr *)((char *)h0 + i * stride);
        if (!h->used)
            return i;
        if (h->last < oldest) {
            oldest = h->last;
            best = i;
        }
    }
    return best;
}

static void memo_claim(struct memo_hdr *h, const uint8_t *id)
{
    h->used = true;
    h->last = ++memo_tick;
    memcpy(h->id, id, MEMO_ID_LEN);
}

static EVP_MD *memo_md;
static pthread_once_t memo_md_once = PTHREAD_ONCE_INIT;
static void memo_md_init(void)
{
    memo_md = EVP_MD_fetch(NULL, "SHA2-256", NULL); /* fetched once, shared read-only */
}

/* id = SHA-256 over a sequence of length-prefixed byte strings (unambiguous framing). */
struct memo_part {
    const uint8_t *p;
    size_t len;
};
static bool memo_id(const struct memo_part *parts, size_t n, uint8_t id[MEMO_ID_LEN])
{
    pthread_once(&memo_md_once, memo_md_init);
    if (!memo_md)
        return false;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    bool ok = c && EVP_DigestInit_ex(c, memo_md, NULL) == 1;
    for (size_t i = 0; ok && i < n; i++) {
        uint8_t l[8];
        for (int k = 0; k < 8; k++)
            l[k] = (uint8_t)((uint64_t)parts[i].len >> (8 * k));
        ok = EVP_DigestUpdate(c, l, sizeof(l)) == 1 &&
             (parts[i].len == 0 || EVP_DigestUpdate(c, parts[i].p, parts[i].len) == 1);
    }
    unsigned int ol = 0;
    ok = ok && EVP_DigestFinal_ex(c, id, &ol) == 1 && ol == MEMO_ID_LEN;
    EVP_MD_CTX_free(c);
    return ok;
}

static EVP_PKEY *key_memo_get(const uint8_t *id)
{
    EVP_PKEY *k = NULL;
    pthread_mutex_lock(&memo_lock);
    size_t i = memo_find(&key_memo[0].h, MEMO_KEYS, sizeof(key_memo[0]), id);
    if (i < MEMO_KEYS && EVP_PKEY_up_ref(key_memo[i].pk) == 1)
        k = key_memo[i].pk;
    if (k)
        memo_count.key_hits++;
    else
        memo_count.key_misses++;
    pthread_mutex_unlock(&memo_lock);
    return k;
}

static void key_memo_put(const uint8_t *id, EVP_PKEY *k)
{
    if (EVP_PKEY_up_ref(k) != 1)
        return;
    EVP_PKEY *old = NULL;
    pthread_mutex_lock(&memo_lock);
    size_t i = memo_find(&key_memo[0].h, MEMO_KEYS, sizeof(key_memo[0]), id);
    if (i == MEMO_KEYS) {
        i = memo_victim(&key_memo[0].h, MEMO_KEYS, sizeof(key_memo[0]));
        old = key_memo[i].pk;
        key_memo[i].pk = k;
        memo_claim(&key_memo[i].h, id);
        k = NULL;
    }
    pthread_mutex_unlock(&memo_lock);
    EVP_PKEY_free(old);
    EVP_PKEY_free(k); /* another thread cached the same key meanwhile */
}

/* Deep copy of a parsed certificate (dst is overwritten; freed on failure). */
static vt_res info_copy(const struct vt_cert_info *src, struct vt_cert_info *dst)
{
    memcpy(dst, src, sizeof(*dst));
    dst->spki = (struct vt_buf)VT_BUF_INIT;
    for (size_t i = 0; i < dst->n_exts; i++) {
        dst->exts[i].oid_der = (struct vt_buf)VT_BUF_INIT;
        dst->exts[i].value = (struct vt_buf)VT_BUF_INIT;
    }
    vt_res r = vti_buf_append(&dst->spki, src->spki.p, src->spki.len);
    for (size_t i = 0; !r.err && i < dst->n_exts; i++) {
        if (src->exts[i].oid_der.len)
            r = vti_buf_append(&dst->exts[i].oid_der, src->exts[i].oid_der.p, src->exts[i].oid_der.len);
        if (!r.err && src->exts[i].value.len)
            r = vti_buf_append(&dst->exts[i].value, src->exts[i].value.p, src->exts[i].value.len);
    }
    if (r.err)
        vti_cert_info_free(dst);
    return r;
}

/* Copy a cached parse into out; false if not cached (out untouched then). */
static bool cert_memo_get(const uint8_t *id, struct vt_cert_info *out)
{
    bool hit = false;
    pthread_mutex_lock(&memo_lock);
    size_t i = memo_find(&cert_memo[0].h, MEMO_CERTS, sizeof(cert_memo[0]), id);
    if (i < MEMO_CERTS)
        hit = info_copy(cert_memo[i].info, out).err == 0;
    if (hit)
        memo_count.cert_hits++;
    else
        memo_count.cert_misses++;
    pthread_mutex_unlock(&memo_lock);
    return hit;
}

static void info_destroy(struct vt_cert_info *ci)
{
    if (!ci)
        return;
    vti_cert_info_free(ci);
    free(ci);
}

static void cert_memo_put(const uint8_t *id, const struct vt_cert_info *info)
{
    struct vt_cert_info *copy = malloc(sizeof(*copy));
    if (!copy)
        return;
    if (info_copy(info, copy).err) {
        free(copy);
        return;
    }
    struct vt_cert_info *old = NULL;
    pthread_mutex_lock(&memo_lock);
    size_t i = memo_find(&cert_memo[0].h, MEMO_CERTS, sizeof(cert_memo[0]), id);
    if (i == MEMO_CERTS) {
        i = memo_victim(&cert_memo[0].h, MEMO_CERTS, sizeof(cert_memo[0]));
        old = cert_memo[i].info;
        cert_memo[i].info = copy;
        memo_claim(&cert_memo[i].h, id);
        copy = NULL;
    }
    pthread_mutex_unlock(&memo_lock);
    info_destroy(old);
    info_destroy(copy); /* another thread cached the same certificate meanwhile */
}

static bool chain_memo_hit(const uint8_t *id, int64_t at)
{
    bool hit = false;
    pthread_mutex_lock(&memo_lock);
    size_t i = memo_find(&chain_memo[0].h, MEMO_CHAINS, sizeof(chain_memo[0]), id);
    /* strictly inside the window: OpenSSL's own boundary conventions never matter */
    if (i < MEMO_CHAINS && at > chain_memo[i].lo && at < chain_memo[i].hi)
        hit = true;
    if (hit)
        memo_count.chain_hits++;
    else
        memo_count.chain_misses++;
    pthread_mutex_unlock(&memo_lock);
    return hit;
}

static void chain_memo_put(const uint8_t *id, int64_t lo, int64_t hi)
{
    if (!(lo < hi))
        return;
    pthread_mutex_lock(&memo_lock);
    size_t i = memo_find(&chain_memo[0].h, MEMO_CHAINS, sizeof(chain_memo[0]), id);
    if (i == MEMO_CHAINS)
        i = memo_victim(&chain_memo[0].h, MEMO_CHAINS, sizeof(chain_memo[0]));
    chain_memo[i].lo = lo;
    chain_memo[i].hi = hi;
    memo_claim(&chain_memo[i].h, id);
    pthread_mutex_unlock(&memo_lock);
}

/* The X509_STORE of exactly these trust anchors (a new reference), or NULL. */
static X509_STORE *store_memo_get(const uint8_t *id)
{
    X509_STORE *st = NULL;
    pthread_mutex_lock(&memo_lock);
    size_t i = memo_find(&store_memo[0].h, MEMO_STORES, sizeof(store_memo[0]), id);
    if (i < MEMO_STORES && X509_STORE_up_ref(store_memo[i].st) == 1)
        st = store_memo[i].st;
    if (st)
        memo_count.store_hits++;
    else
        memo_count.store_misses++;
    pthread_mutex_unlock(&memo_lock);
    return st;
}

static void store_memo_put(const uint8_t *id, X509_STORE *st)
{
    if (X509_STORE_up_ref(st) != 1)
        return;
    X509_STORE *old = NULL;
    pthread_mutex_lock(&memo_lock);
    size_t i = memo_find(&store_memo[0].h, MEMO_STORES, sizeof(store_memo[0]), id);
    if (i == MEMO_STORES) {
        i = memo_victim(&store_memo[0].h, MEMO_STORES, sizeof(store_memo[0]));
        old = store_memo[i].st;
        store_memo[i].st = st;
        memo_claim(&store_memo[i].h, id);
        st = NULL;
    }
    pthread_mutex_unlock(&memo_lock);
    X509_STORE_free(old);
    X509_STORE_free(st);
}

void vti_ossl_memo_flush_anchors(void)
{
    pthread_mutex_lock(&memo_lock);
    for (size_t i = 0; i < MEMO_STORES; i++) {
        X509_STORE_free(store_memo[i].st);
        memset(&store_memo[i], 0, sizeof(store_memo[i]));
    }
    pthread_mutex_unlock(&memo_lock);
}

void vti_ossl_memo_flush_peer(void)
{
    pthread_mutex_lock(&memo_lock);
    for (size_t i = 0; i < MEMO_KEYS; i++) {
        EVP_PKEY_free(key_memo[i].pk);
        memset(&key_memo[i], 0, sizeof(key_memo[i]));
    }
    for (size_t i = 0; i < MEMO_CERTS; i++) {
        info_destroy(cert_memo[i].info);
        memset(&cert_memo[i], 0, sizeof(cert_memo[i]));
    }
    for (size_t i = 0; i < MEMO_X509; i++) {
        X509_free(x509_memo[i].x);
        memset(&x509_memo[i], 0, sizeof(x509_memo[i]));
    }
    memset(chain_memo, 0, sizeof(chain_memo));
    pthread_mutex_unlock(&memo_lock);
}

void vti_ossl_memo_flush(void)
{
    vti_ossl_memo_flush_peer();
    vti_ossl_memo_flush_anchors();
}

void vti_ossl_memo_stats(struct vti_ossl_memo_stats *out)
{
    pthread_mutex_lock(&memo_lock);
    *out = memo_count;
    pthread_mutex_unlock(&memo_lock);
}

/* ---- keys ------------------------------------------------------------------------------ */

static vt_res key_load(struct vt_der key, EVP_PKEY **out)
{
    ENSURE(key.p && key.len > 0 && key.len <= 16384, VT_ERR_KEY_PARSE);
    const unsigned char *q = key.p;
    EVP_PKEY *k = d2i_AutoPrivateKey(NULL, &q, (long)key.len);
    ENSURE(k, VT_ERR_KEY_PARSE);
    if (q != key.p + key.len) {
        EVP_PKEY_free(k);
        return VT_FAIL(VT_ERR_KEY_PARSE);
    }
    *out = k;
    return vti_ok();
}

static vt_res key_export(EVP_PKEY *k, struct vt_buf *pkcs8)
{
    PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(k);
    ENSURE(p8, VT_ERR_CRYPTO);
    unsigned char *der = NULL;
    int n = i2d_PKCS8_PRIV_KEY_INFO(p8, &der);
    PKCS8_PRIV_KEY_INFO_free(p8);
    return vti_ossl_i2d_append(n, der, VT_ERR_CRYPTO, pkcs8);
}

static vt_res key_kind(EVP_PKEY *k, enum vt_key_type *t, char *desc, size_t desclen)
{
    int id = EVP_PKEY_get_base_id(k);
    if (id == EVP_PKEY_EC) {
        char g[64] = "";
        size_t gl = 0;
        GUARD_OSSL(EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, g, sizeof(g), &gl),
                   VT_ERR_KEY_TYPE);
        if (!strcmp(g, "prime256v1") || !strcmp(g, "P-256") || !strcmp(g, "secp256r1")) {
            if (t)
                *t = VT_KEY_P256;
            if (desc)
                snprintf(desc, desclen, "secp256r1");
            return vti_ok();
        }
        if (!strcmp(g, "secp384r1") || !strcmp(g, "P-384")) {
            if (t)
                *t = VT_KEY_P384;
            if (desc)
                snprintf(desc, desclen, "secp384r1");
            return vti_ok();
        }
        if (desc)
            snprintf(desc, desclen, "%s", g);
        return VT_FAIL(VT_ERR_KEY_TYPE);
    }
    if (id == EVP_PKEY_RSA) {
        int bits = EVP_PKEY_get_bits(k);
        if (desc)
            snprintf(desc, desclen, "rsa%d", bits);
        ENSURE(bits == 3072, VT_ERR_KEY_TYPE);
        if (t)
            *t = VT_KEY_RSA3072;
        return vti_ok();
    }
    if (desc)
        snprintf(desc, desclen, "%s", OBJ_nid2sn(id));
    return VT_FAIL(VT_ERR_KEY_TYPE);
}

static const EVP_MD *md_for_key(EVP_PKEY *k)
{
    if (EVP_PKEY_get_base_id(k) == EVP_PKEY_EC && EVP_PKEY_get_bits(k) == 384)
        return EVP_sha384();
    return EVP_sha256();
}

static const EVP_MD *md_for_alg(enum vt_hash_alg a)
{
    switch (a) {
    case VT_HASH_SHA256:
        return EVP_sha256();
    case VT_HASH_SHA384:
        return EVP_sha384();
    case VT_HASH_SHA512:
        return EVP_sha512();
    }
    return NULL;
}

static vt_res ossl_keygen(enum vt_key_type t, struct vt_buf *pkcs8)
{
    EVP_PKEY *k = NULL;
    switch (t) {
    case VT_KEY_P256:
        k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        break;
    case VT_KEY_P384:
        k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
        break;
    case VT_KEY_RSA3072:
        k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
        break;
    default:
        return VT_FAIL(VT_ERR_KEY_TYPE);
    }
    ENSURE(k, VT_ERR_CRYPTO);
    vt_res r = key_export(k, pkcs8);
    EVP_PKEY_free(k);
    return r;
}

static int no_password(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return 0; /* never prompt: encrypted keys are not supported */
}

static vt_res ossl_key_import(const uint8_t *in, size_t len, struct vt_buf *pkcs8)
{
    ENSURE(in && len > 0 && len <= (1u << 20), VT_ERR_KEY_PARSE);
    EVP_PKEY *k = NULL;
    if (vti_pem_has(in, len, "PRIVATE KEY") || vti_pem_has(in, len, "EC PRIVATE KEY") ||
        vti_pem_has(in, len, "RSA PRIVATE KEY")) {
        BIO *b = BIO_new_mem_buf(in, (int)len);
        ENSURE(b, VT_ERR_NOMEM);
        k = PEM_read_bio_PrivateKey(b, NULL, no_password, NULL);
        BIO_free(b);
        ENSURE(k, VT_ERR_KEY_PARSE);
    } else {
        GUARD(key_load((struct vt_der){ in, len }, &k));
    }
    vt_res r = key_kind(k, NULL, NULL, 0);
    if (!r.err)
        r = key_export(k, pkcs8);
    EVP_PKEY_free(k);
    return r;
}

static vt_res ossl_key_type(struct vt_der key, enum vt_key_type *out)
{
    EVP_PKEY *k = NULL;
    GUARD(key_load(key, &k));
    vt_res r = key_kind(k, out, NULL, 0);
    EVP_PKEY_free(k);
    return r;
}

static vt_res pkey_spki(EVP_PKEY *k, struct vt_buf *spki)
{
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(k, &der);
    return vti_ossl_i2d_append(n, der, VT_ERR_CRYPTO, spki);
}

static vt_res ossl_key_spki(struct vt_der key, struct vt_buf *spki)
{
    EVP_PKEY *k = NULL;
    GUARD(key_load(key, &k));
    vt_res r = pkey_spki(k, spki);
    EVP_PKEY_free(k);
    return r;
}

static vt_res ossl_hash(enum vt_hash_alg alg, const uint8_t *p, size_t n, uint8_t *out)
{
    const EVP_MD *md = md_for_alg(alg);
    ENSURE(md, VT_ERR_UNSUPPORTED);
    unsigned int ol = 0;
    GUARD_OSSL(EVP_Digest(p ? p : (const uint8_t *)"", n, out, &ol, md, NULL), VT_ERR_CRYPTO);
    ENSURE(ol == vti_hash_len(alg), VT_ERR_CRYPTO);
    return vti_ok();
}

static vt_res ossl_sign(struct vt_der key, const uint8_t *msg, size_t n, struct vt_buf *sig)
{
    EVP_PKEY *k = NULL;
    GUARD(key_load(key, &k));
    vt_res r = vti_ok();
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    size_t sl = 0;
    ENSURE_GOTO(c, VT_ERR_NOMEM, r, done);
    ENSURE_GOTO(EVP_DigestSignInit(c, NULL, md_for_key(k), NULL, k) == 1, VT_ERR_CRYPTO, r, done);
    ENSURE_GOTO(EVP_DigestSign(c, NULL, &sl, msg, n) == 1, VT_ERR_CRYPTO, r, done);
    GUARD_GOTO(vti_buf_reserve(sig, sl), r, done);
    ENSURE_GOTO(EVP_DigestSign(c, sig->p + sig->len, &sl, msg, n) == 1, VT_ERR_CRYPTO, r, done);
    sig->len += sl;
done:
    EVP_MD_CTX_free(c);
    EVP_PKEY_free(k);
    return r;
}

/*
 * An uncompressed P-256 / P-384 SubjectPublicKeyInfo (the exact DER of RFC 5480: named curve,
 * uncompressed point) straight into the EC key manager, skipping OpenSSL 3.0's per-call
 * decoder chain. The key manager rejects points that are not on the curve. NULL for any other
 * input: the caller then falls back to d2i_PUBKEY, which decides (and rejects) the rest.
 */
static EVP_PKEY *ec_spki_fast(const uint8_t *p, size_t len)
{
    static const uint8_t p256[] = { 0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
                                    0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
                                    0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04 };
    static const uint8_t p384[] = { 0x30, 0x76, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48,
                                    0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b, 0x81, 0x04,
                                    0x00, 0x22, 0x03, 0x62, 0x00, 0x04 };
    const char *group;
    size_t pre;
    if (len == sizeof(p256) + 64 && memcmp(p, p256, sizeof(p256)) == 0) { /* lint: public */
        group = "P-256";
        pre = sizeof(p256) - 1;
    } else if (len == sizeof(p384) + 96 && memcmp(p, p384, sizeof(p384)) == 0) { /* lint: public */
        group = "P-384";
        pre = sizeof(p384) - 1;
    } else {
        return NULL;
    }
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, vti_unconst(group), 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, vti_unconst(p + pre), len - pre),
        OSSL_PARAM_construct_end(),
    };
    EVP_PKEY *k = NULL;
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (!c || EVP_PKEY_fromdata_init(c) != 1 ||
        EVP_PKEY_fromdata(c, &k, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        EVP_PKEY_free(k);
        k = NULL;
    }
    EVP_PKEY_CTX_free(c);
    return k;
}

/* SPKI DER -> a public key (shared with the key cache: use read-only, release with
 * EVP_PKEY_free). */
static vt_res spki_load(struct vt_der spki, EVP_PKEY **out)
{
    ENSURE(spki.p && spki.len > 0 && spki.len <= 16384, VT_ERR_KEY_PARSE);
    uint8_t id[MEMO_ID_LEN];
    bool have_id = memo_id(&(struct memo_part){ spki.p, spki.len }, 1, id);
    EVP_PKEY *k = have_id ? key_memo_get(id) : NULL;
    if (k) {
        *out = k;
        return vti_ok();
    }
    k = ec_spki_fast(spki.p, spki.len);
    if (!k) {
        const unsigned char *q = spki.p;
        k = d2i_PUBKEY(NULL, &q, (long)spki.len);
        ENSURE(k, VT_ERR_KEY_PARSE);
        if (q != spki.p + spki.len) {
            EVP_PKEY_free(k);
            return VT_FAIL(VT_ERR_KEY_PARSE);
        }
    }
    if (have_id)
        key_memo_put(id, k);
    *out = k;
    return vti_ok();
}

static vt_res ossl_verify(struct vt_der spki, enum vt_hash_alg alg, const uint8_t *msg, size_t n,
                          const uint8_t *sig, size_t siglen)
{
    const EVP_MD *md = md_for_alg(alg);
    ENSURE(md, VT_ERR_UNSUPPORTED);
    ENSURE(sig && siglen > 0, VT_ERR_SIGNATURE);
    EVP_PKEY *k = NULL;
    GUARD(spki_load(spki, &k));
    vt_res r = vti_ok();
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    ENSURE_GOTO(c, VT_ERR_NOMEM, r, done);
    ENSURE_GOTO(EVP_DigestVerifyInit(c, NULL, md, NULL, k) == 1, VT_ERR_CRYPTO, r, done);
    ENSURE_GOTO(EVP_DigestVerify(c, sig, siglen, msg, n) == 1, VT_ERR_SIGNATURE, r, done);
done:
    EVP_MD_CTX_free(c);
    EVP_PKEY_free(k);
    return r;
}

/* ---- certificates ---------------------------------------------------------------------- */

/* "CN=a,O=b,C=c" (RFC 2253 order: most specific first) -> X509_NAME, so that the name prints
 * back as given. Values may not contain ',' or '='. */
static vt_res name_parse(const char *s, X509_NAME **out)
{
    ENSURE(s && *s && strlen(s) < 1024, VT_ERR_INVALID_ARG);
    X509_NAME *nm = X509_NAME_new();
    ENSURE(nm, VT_ERR_NOMEM);
    char tmp[1024];
    snprintf(tmp, sizeof(tmp), "%s", s);
    vt_res r = vti_ok();
    char *part = tmp;
    while (part) {
        char *comma = strchr(part, ',');
        if (comma)
            *comma = 0;
        while (*part == ' ')
            part++;
        char *eq = strchr(part, '=');
        ENSURE_GOTO(eq && eq != part && eq[1], VT_ERR_INVALID_ARG, r, fail);
        *eq = 0;
        ENSURE_GOTO(X509_NAME_add_entry_by_txt(nm, part, MBSTRING_UTF8,
                                               (const unsigned char *)(eq + 1), -1, 0, 0) == 1,
                    VT_ERR_INVALID_ARG, r, fail);
        part = comma ? comma + 1 : NULL;
    }
    ENSURE_GOTO(X509_NAME_entry_count(nm) > 0, VT_ERR_INVALID_ARG, r, fail);
    *out = nm;
    return vti_ok();
fail:
    X509_NAME_free(nm);
    return r;
}

static vt_res add_conf_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    ENSURE(e, VT_ERR_CERT_BUILD);
    int ok = X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    GUARD_OSSL(ok, VT_ERR_CERT_BUILD);
    return vti_ok();
}

static vt_res add_raw_ext(X509 *x, const struct vt_x509_ext *ext)
{
    ENSURE(ext->oid && (ext->value || ext->len == 0), VT_ERR_INVALID_ARG);
    ASN1_OBJECT *obj = OBJ_txt2obj(ext->oid, 1);
    ENSURE(obj, VT_ERR_INVALID_ARG);
    vt_res r = vti_ok();
    X509_EXTENSION *e = NULL;
    ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
    ENSURE_GOTO(os, VT_ERR_NOMEM, r, done);
    ENSURE_GOTO(ext->len <= INT32_MAX, VT_ERR_TOO_LARGE, r, done);
    ENSURE_GOTO(ASN1_OCTET_STRING_set(os, ext->value ? ext->value : (const uint8_t *)"",
                                      (int)ext->len) == 1, VT_ERR_NOMEM, r, done);
    e = X509_EXTENSION_create_by_OBJ(NULL, obj, ext->critical ? 1 : 0, os);
    ENSURE_GOTO(e, VT_ERR_CERT_BUILD, r, done);
    ENSURE_GOTO(X509_add_ext(x, e, -1) == 1, VT_ERR_CERT_BUILD, r, done);
done:
    X509_EXTENSION_free(e);
    ASN1_OCTET_STRING_free(os);
    ASN1_OBJECT_free(obj);
    return r;
}

static vt_res cert_from_der(struct vt_der d, X509 **out)
{
    ENSURE(d.p && d.len > 0 && d.len <= (1u << 20), VT_ERR_CERT_PARSE);
    const unsigned char *q = d.p;
    X509 *x = d2i_X509(NULL, &q, (long)d.len);
    ENSURE(x, VT_ERR_CERT_PARSE);
    if (q != d.p + d.len) {
        X509_free(x);
        return VT_FAIL(VT_ERR_CERT_PARSE);
    }
    *out = x;
    return vti_ok();
}

static X509 *x509_memo_get(const uint8_t *id)
{
    X509 *x = NULL;
    pthread_mutex_lock(&memo_lock);
    size_t i = memo_find(&x509_memo[0].h, MEMO_X509, sizeof(x509_memo[0]), id);
    if (i < MEMO_X509 && X509_up_ref(x509_memo[i].x) == 1)
        x = x509_memo[i].x;
    if (x)
        memo_count.x509_hits++;
    else
        memo_count.x509_misses++;
    pthread_mutex_unlock(&memo_lock);
    return x;
}

static void x509_memo_put(const uint8_t *id, X509 *x)
{
    if (X509_up_ref(x) != 1)
        return;
    X509 *old = NULL;
    pthread_mutex_lock(&memo_lock);
    size_t i = memo_find(&x509_memo[0].h, MEMO_X509, sizeof(x509_memo[0]), id);
    if (i == MEMO_X509) {
        i = memo_victim(&x509_memo[0].h, MEMO_X509, sizeof(x509_memo[0]));
        old = x509_memo[i].x;
        x509_memo[i].x = x;
        memo_claim(&x509_memo[i].h, id);
        x = NULL;
    }
    pthread_mutex_unlock(&memo_lock);
    X509_free(old);
    X509_free(x); /* another thread cached the same certificate meanwhile */
}

/* The X509 memo's key of a certificate: SHA-256 of its exact DER (false if not computable,
 * then the caller takes the uncached path). */
static bool der_id(struct vt_der d, uint8_t id[MEMO_ID_LEN])
{
    return d.p && d.len > 0 && d.len <= (1u << 20) &&
           memo_id(&(struct memo_part){ d.p, d.len }, 1, id);
}

/* cert_from_der through the X509 memo: keyed by SHA-256 of the exact DER (`known`: that id
 * when the caller has already computed it from exactly d, else NULL), only successful parses
 * (whole input consumed) are kept. The object is shared: read it, never modify it; release
 * with X509_free. */
static vt_res cert_from_der_memo_id(struct vt_der d, const uint8_t *known, X509 **out)
{
    uint8_t id[MEMO_ID_LEN];
    bool have_id = known != NULL || der_id(d, id);
    if (known)
        memcpy(id, known, MEMO_ID_LEN);
    X509 *x = have_id ? x509_memo_get(id) : NULL;
    if (x) {
        *out = x;
        return vti_ok();
    }
    GUARD(cert_from_der(d, &x));
    if (have_id)
        x509_memo_put(id, x);
    *out = x;
    return vti_ok();
}

static vt_res cert_from_der_memo(struct vt_der d, X509 **out)
{
    return cert_from_der_memo_id(d, NULL, out);
}

void vti_ossl_memo_offer_x509(const uint8_t *der, size_t len, X509 *x)
{
    uint8_t id[MEMO_ID_LEN];
    if (x && der && len > 0 && len <= (1u << 20) &&
        memo_id(&(struct memo_part){ der, len }, 1, id))
        x509_memo_put(id, x);
}

static vt_res ossl_cert_create(const struct vt_cert_params *p, struct vt_buf *cert_der)
{
    vt_res r = vti_ok();
    EVP_PKEY *subj = NULL, *signer = NULL;
    X509 *x = NULL, *issuer = NULL;
    X509_NAME *name = NULL;
    BIGNUM *bn = NULL;
    ENSURE(p && p->not_after > p->not_before, VT_ERR_INVALID_ARG);

    bool self = p->issuer_key.len == 0;
    if (self) {
        GUARD_GOTO(key_load(p->key, &subj), r, done);
        signer = subj;
    } else {
        GUARD_GOTO(key_load(p->issuer_key, &signer), r, done);
        if (p->subject_spki.len)
            GUARD_GOTO(spki_load(p->subject_spki, &subj), r, done);
        else
            GUARD_GOTO(key_load(p->key, &subj), r, done);
        ENSURE_GOTO(p->issuer_cert.len, VT_ERR_INVALID_ARG, r, done);
        GUARD_GOTO(cert_from_der(p->issuer_cert, &issuer), r, done);
    }
    x = X509_new();
    ENSURE_GOTO(x, VT_ERR_NOMEM, r, done);
    ENSURE_GOTO(X509_set_version(x, 2) == 1, VT_ERR_CERT_BUILD, r, done);
    uint64_t serial = p->serial;
    if (!serial) {
        ENSURE_GOTO(RAND_bytes((unsigned char *)&serial, sizeof(serial)) == 1, VT_ERR_CRYPTO, r,
                    done);
        serial = (serial >> 1) | 1; /* positive, non-zero */
    }
    bn = BN_new();
    ENSURE_GOTO(bn && BN_set_word(bn, serial) == 1, VT_ERR_NOMEM, r, done);
    ENSURE_GOTO(BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)), VT_ERR_CERT_BUILD, r, done);
    GUARD_GOTO(name_parse(p->subject, &name), r, done);
    ENSURE_GOTO(X509_set_subject_name(x, name) == 1, VT_ERR_CERT_BUILD, r, done);
    ENSURE_GOTO(X509_set_issuer_name(x, self ? name : X509_get_subject_name(issuer)) == 1,
                VT_ERR_CERT_BUILD, r, done);
    ENSURE_GOTO(ASN1_TIME_set(X509_getm_notBefore(x), (time_t)p->not_before), VT_ERR_CERT_BUILD,
                r, done);
    ENSURE_GOTO(ASN1_TIME_set(X509_getm_notAfter(x), (time_t)p->not_after), VT_ERR_CERT_BUILD, r,
                done);
    ENSURE_GOTO(X509_set_pubkey(x, subj) == 1, VT_ERR_CERT_BUILD, r, done);

    X509V3_CTX v3;
    X509V3_set_ctx(&v3, self ? x : issuer, x, NULL, NULL, 0);
    GUARD_GOTO(add_conf_ext(x, &v3, NID_basic_constraints,
                            p->is_ca ? "critical,CA:TRUE" : "CA:FALSE"), r, done);
    if (p->is_ca)
        GUARD_GOTO(add_conf_ext(x, &v3, NID_key_usage, "critical,keyCertSign,cRLSign"), r, done);
    GUARD_GOTO(add_conf_ext(x, &v3, NID_subject_key_identifier, "hash"), r, done);
    GUARD_GOTO(add_conf_ext(x, &v3, NID_authority_key_identifier, "keyid:always"), r, done);
    ENSURE_GOTO(p->n_exts <= VT_CERT_MAX_EXTS - 4, VT_ERR_TOO_LARGE, r, done);
    for (size_t i = 0; i < p->n_exts; i++)
        GUARD_GOTO(add_raw_ext(x, &p->exts[i]), r, done);

    ENSURE_GOTO(X509_sign(x, signer, md_for_key(signer)) > 0, VT_ERR_CERT_BUILD, r, done);
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    r = vti_ossl_i2d_append(n, der, VT_ERR_CERT_BUILD, cert_der);
done:
    BN_free(bn);
    X509_NAME_free(name);
    X509_free(x);
    X509_free(issuer);
    if (signer != subj)
        EVP_PKEY_free(signer);
    EVP_PKEY_free(subj);
    return r;
}

static void name_text(const X509_NAME *nm, char *out, size_t outlen)
{
    out[0] = 0;
    BIO *b = BIO_new(BIO_s_mem());
    if (!b)
        return;
    if (X509_NAME_print_ex(b, nm, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
        char *d = NULL;
        long n = BIO_get_mem_data(b, &d);
        if (n > 0 && d)
            snprintf(out, outlen, "%.*s", (int)n, d);
    }
    BIO_free(b);
}

static vt_res asn1_time_unix(const ASN1_TIME *t, int64_t *out)
{
    struct tm tm;
    GUARD_OSSL(ASN1_TIME_to_tm(t, &tm), VT_ERR_CERT_PARSE);
    *out = vti_timegm(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec);
    return vti_ok();
}

/* The public key OpenSSL decoded with a certificate, offered to the key memo under SHA-256
 * of the certificate's SubjectPublicKeyInfo as i2d_X509_PUBKEY re-encodes it (the bytes
 * cert_parse returns in spki): a verification with that SPKI (the sim evidence signature by
 * its attestation key) then does not decode the same key a second time. Sound for the same
 * reason as the memo itself: the key is what decoding exactly those SPKI bytes yields (the
 * re-encoding carries the same algorithm, parameters and key bits), and only a key that
 * decoded exists to be offered. */
static void key_memo_offer(const struct vt_buf *spki, EVP_PKEY *pk)
{
    uint8_t id[MEMO_ID_LEN];
    if (pk && spki->len > 0 && spki->len <= 16384 && /* what spki_load accepts */
        memo_id(&(struct memo_part){ spki->p, spki->len }, 1, id))
        key_memo_put(id, pk);
}

static vt_res cert_parse_uncached(const uint8_t *der, size_t len, const uint8_t *known_id,
                                  unsigned flags, struct vt_cert_info *out)
{
    memset(out, 0, sizeof(*out));
    X509 *x;
    GUARD(cert_from_der_memo_id((struct vt_der){ der, len }, known_id, &x));
    vt_res r = vti_ok();
    name_text(X509_get_subject_name(x), out->subject, sizeof(out->subject));
    name_text(X509_get_issuer_name(x), out->issuer, sizeof(out->issuer));
    GUARD_GOTO(asn1_time_unix(X509_get0_notBefore(x), &out->not_before), r, fail);
    GUARD_GOTO(asn1_time_unix(X509_get0_notAfter(x), &out->not_after), r, fail);

    const ASN1_BIT_STRING *sig;
    const X509_ALGOR *alg;
    X509_get0_signature(&sig, &alg, x);
    const ASN1_OBJECT *aobj;
    int ptype = 0;
    const void *pval;
    X509_ALGOR_get0(&aobj, &ptype, &pval, alg);
    OBJ_obj2txt(out->sig_alg, sizeof(out->sig_alg), aobj, 0);
    int signid = OBJ_obj2nid(aobj);
    out->sig_alg_null_params = ptype == V_ASN1_NULL &&
                               (signid == NID_ecdsa_with_SHA256 || signid == NID_ecdsa_with_SHA384 ||
                                signid == NID_ecdsa_with_SHA512);

    EVP_PKEY *pk = X509_get0_pubkey(x);
    ENSURE_GOTO(pk, VT_ERR_KEY_PARSE, r, fail);
    (void)key_kind(pk, NULL, out->key_desc, sizeof(out->key_desc)).err; /* desc only */
    unsigned char *spki = NULL;
    int sn = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki);
    r = vti_ossl_i2d_append(sn, spki, VT_ERR_CERT_PARSE, &out->spki);
    if (r.err)
        goto fail;
    key_memo_offer(&out->spki, pk);
    out->self_issued = X509_NAME_cmp(X509_get_issuer_name(x), X509_get_subject_name(x)) == 0;
    out->self_sig_ok = (flags & VT_CERT_PARSE_SELF_SIG) && X509_verify(x, pk) == 1;

    int next = X509_get_ext_count(x);
    ENSURE_GOTO(next >= 0 && next <= VT_CERT_MAX_EXTS, VT_ERR_TOO_LARGE, r, fail);
    for (int i = 0; i < next; i++) {
        X509_EXTENSION *e = X509_get_ext(x, i);
        struct vt_cert_ext_info *ei = &out->exts[out->n_exts++];
        ASN1_OBJECT *o = X509_EXTENSION_get_object(e);
        ENSURE_GOTO(o, VT_ERR_CERT_PARSE, r, fail);
        OBJ_obj2txt(ei->oid, sizeof(ei->oid), o, 1);
        size_t ol = OBJ_length(o);
        const unsigned char *od = OBJ_get0_data(o);
        if (ol && od)
            GUARD_GOTO(vti_buf_append(&ei->oid_der, od, ol), r, fail);
        ei->critical = X509_EXTENSION_get_critical(e) > 0;
        ASN1_OCTET_STRING *v = X509_EXTENSION_get_data(e);
        ENSURE_GOTO(v, VT_ERR_CERT_PARSE, r, fail);
        int vl = ASN1_STRING_length(v);
        if (vl > 0)
            GUARD_GOTO(vti_buf_append(&ei->value, ASN1_STRING_get0_data(v), (size_t)vl), r, fail);
    }
    X509_free(x);
    return vti_ok();
fail:
    X509_free(x);
    vti_cert_info_free(out);
    return r;
}

/* The cert memo's key: the certificate's id and the parse flags, so that a parse without the
 * self-signature check is never served to a caller that asked for it. */
static bool cert_memo_key(const uint8_t did[MEMO_ID_LEN], unsigned flags, uint8_t id[MEMO_ID_LEN])
{
    const uint8_t f[4] = { (uint8_t)flags, (uint8_t)(flags >> 8), (uint8_t)(flags >> 16),
                           (uint8_t)(flags >> 24) };
    const struct memo_part parts[2] = { { did, MEMO_ID_LEN }, { f, sizeof(f) } };
    return memo_id(parts, 2, id);
}

static vt_res ossl_cert_parse(const uint8_t *der, size_t len, unsigned flags,
                              struct vt_cert_info *out)
{
    ENSURE(out, VT_ERR_INVALID_ARG);
    memset(out, 0, sizeof(*out));
    ENSURE((flags & ~VT_CERT_PARSE_FLAGS_ALL) == 0, VT_ERR_INVALID_ARG);
    uint8_t did[MEMO_ID_LEN], id[MEMO_ID_LEN];
    bool have_did = der_id((struct vt_der){ der, len }, did);
    bool have_id = have_did && cert_memo_key(did, flags, id);
    if (have_id && cert_memo_get(id, out))
        return vti_ok();
    GUARD(cert_parse_uncached(der, len, have_did ? did : NULL, flags, out));
    if (have_id)
        cert_memo_put(id, out);
    return vti_ok();
}

static vt_res ossl_chain_verify(const struct vt_der *chain, size_t n, const struct vt_der *roots,
                                size_t nroots, int64_t at)
{
    ENSURE(n >= 1 && n <= 8, VT_ERR_INVALID_ARG);
    ENSURE(nroots >= 1, VT_ERR_NO_ROOT);
    ENSURE(nroots <= 256, VT_ERR_TOO_LARGE);
    struct memo_part parts[8 + 256 + 1];
    size_t np = 0;
    for (size_t i = 0; i < n; i++)
        parts[np++] = (struct memo_part){ chain[i].p, chain[i].len };
    parts[np++] = (struct memo_part){ NULL, 0 }; /* separator: chain | roots */
    for (size_t i = 0; i < nroots; i++)
        parts[np++] = (struct memo_part){ roots[i].p, roots[i].len };
    uint8_t id[MEMO_ID_LEN];
    bool have_id = memo_id(parts, np, id);
    if (have_id && chain_memo_hit(id, at))
        return vti_ok();

    /* The trust anchors, parsed once per distinct set of root bytes (a store is only ever
     * read after it is complete, so concurrent verifications may share it). */
    uint8_t rid[MEMO_ID_LEN];
    bool have_rid = memo_id(parts + n + 1, nroots, rid);
    X509_STORE *st = have_rid ? store_memo_get(rid) : NULL;
    bool new_store = !st;
    vt_res r = vti_ok();
    if (new_store)
        st = X509_STORE_new();
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    X509_STORE_CTX *sc = X509_STORE_CTX_new();
    X509 *leaf = NULL;
    ENSURE_GOTO(st && untrusted && sc, VT_ERR_NOMEM, r, done);
    for (size_t i = 0; new_store && i < nroots; i++) {
        X509 *rc;
        GUARD_GOTO(cert_from_der_memo(roots[i], &rc), r, done);
        int ok = X509_STORE_add_cert(st, rc);
        X509_free(rc);
        ENSURE_GOTO(ok == 1, VT_ERR_CRYPTO, r, done);
    }
    if (new_store && have_rid)
        store_memo_put(rid, st);
    GUARD_GOTO(cert_from_der_memo(chain[0], &leaf), r, done);
    for (size_t i = 1; i < n; i++) {
        X509 *ic;
        GUARD_GOTO(cert_from_der_memo(chain[i], &ic), r, done);
        if (sk_X509_push(untrusted, ic) <= 0) {
            X509_free(ic);
            r = VT_FAIL(VT_ERR_NOMEM);
            goto done;
        }
    }
    ENSURE_GOTO(X509_STORE_CTX_init(sc, st, leaf, untrusted) == 1, VT_ERR_CRYPTO, r, done);
    X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(sc);
    X509_VERIFY_PARAM_set_time(vp, (time_t)at);
    X509_VERIFY_PARAM_set_depth(vp, 8);
    ENSURE_GOTO(X509_verify_cert(sc) == 1, VT_ERR_NOT_TRUSTED, r, done);
    if (have_id) {
        /* the window in which every certificate of the validated path (trust anchor
         * included) is within its validity period */
        STACK_OF(X509) *path = X509_STORE_CTX_get0_chain(sc);
        int64_t lo = INT64_MIN, hi = INT64_MAX;
        bool ok = path && sk_X509_num(path) >= 1;
        for (int i = 0; ok && i < sk_X509_num(path); i++) {
            X509 *pc = sk_X509_value(path, i);
            int64_t nb = 0, na = 0;
            ok = pc && asn1_time_unix(X509_get0_notBefore(pc), &nb).err == 0 &&
                 asn1_time_unix(X509_get0_notAfter(pc), &na).err == 0;
            if (ok) {
                lo = nb > lo ? nb : lo;
                hi = na < hi ? na : hi;
            }
        }
        if (ok && lo <= at && at <= hi)
            chain_memo_put(id, lo, hi);
    }
done:
    X509_free(leaf);
    sk_X509_pop_free(untrusted, X509_free);
    X509_STORE_CTX_free(sc);
    X509_STORE_free(st);
    return r;
}

/* Every op leaves the thread's OpenSSL error queue empty, so that a failed parse of peer
 * input cannot confuse a later SSL_get_error() in the TLS layer. */
static vt_res clean(vt_res r)
{
    ERR_clear_error();
    return r;
}
static vt_res w_keygen(enum vt_key_type t, struct vt_buf *o) { return clean(ossl_keygen(t, o)); }
static vt_res w_key_import(const uint8_t *in, size_t n, struct vt_buf *o) { return clean(ossl_key_import(in, n, o)); }
static vt_res w_key_type(struct vt_der k, enum vt_key_type *o) { return clean(ossl_key_type(k, o)); }
static vt_res w_key_spki(struct vt_der k, struct vt_buf *o) { return clean(ossl_key_spki(k, o)); }
static vt_res w_hash(enum vt_hash_alg a, const uint8_t *p, size_t n, uint8_t *o) { return clean(ossl_hash(a, p, n, o)); }
static vt_res w_sign(struct vt_der k, const uint8_t *m, size_t n, struct vt_buf *o) { return clean(ossl_sign(k, m, n, o)); }
static vt_res w_verify(struct vt_der s, enum vt_hash_alg a, const uint8_t *m, size_t n, const uint8_t *g, size_t gl)
{
    return clean(ossl_verify(s, a, m, n, g, gl));
}
static vt_res w_cert_create(const struct vt_cert_params *p, struct vt_buf *o) { return clean(ossl_cert_create(p, o)); }
static vt_res w_cert_parse(const uint8_t *d, size_t n, unsigned f, struct vt_cert_info *o) { return clean(ossl_cert_parse(d, n, f, o)); }
static vt_res w_chain_verify(const struct vt_der *c, size_t n, const struct vt_der *r, size_t nr, int64_t at)
{
    return clean(ossl_chain_verify(c, n, r, nr, at));
}

static const struct vt_crypto_ops openssl_crypto = {
    .hdr = { VT_INSTANCE_ABI, VT_KIND_CRYPTO, "openssl", 100, 0, NULL },
    .keygen = w_keygen,
    .key_import = w_key_import,
    .key_type = w_key_type,
    .key_spki = w_key_spki,
    .hash = w_hash,
    .sign = w_sign,
    .verify = w_verify,
    .cert_create = w_cert_create,
    .cert_parse = w_cert_parse,
    .chain_verify = w_chain_verify,
};
const struct vt_instance_hdr *const vt_inst_openssl_crypto = &openssl_crypto.hdr;
