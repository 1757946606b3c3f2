/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kms.c - the broker's key store: envelope encryption at rest, master key handling, key
 * generation, rotation, wrap/unwrap (see kms.h for the envelope and AAD layout).
 *
 * Trust boundary: the master key file is trusted only if it is a regular file (symbolic links
 * followed) owned by root or the broker's user with no group/other permission bit set, and
 * its bytes are not all equal; blobs read back from the store are authenticated (GCM) before
 * use, so a tampered database is detected, not trusted. Secrets live in wiping buffers; the
 * master key lives in an mlock'd, MADV_DONTDUMP page that is wiped on close.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/kms.h"
#include "util/codec.h"
#include "util/log.h"
#include "util/secmem.h"

#define ENVELOPE_VERSION 0x01
/* The master-key check value also says whether the store's secrets have their latest-version
 * records: v1 (written before they existed) is adopted once at open (kms_adopt), v2 after. */
#define CHECK_PLAINTEXT_V1 "veritee master key check v1"
#define CHECK_PLAINTEXT "veritee master key check v2"

struct vtb_kms {
    const struct vtb_store_ops *ops;
    struct vtb_store *st;
    uint8_t *master; /* VTB_MASTER_KEY_LEN bytes in a locked page */
    size_t master_map;
};

/* ---- AES-256-GCM ------------------------------------------------------------------- */

vt_res vtb_gcm_seal(const uint8_t key[32], const uint8_t iv[12], const uint8_t *aad,
                    size_t aad_len, const uint8_t *pt, size_t n, struct vt_buf *out)
{
    ENSURE(n <= INT32_MAX - 32 && aad_len <= INT32_MAX, VT_ERR_TOO_LARGE);
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    ENSURE(c, VT_ERR_NOMEM);
    vt_res r = vti_ok();
    int len = 0;
    GUARD_GOTO(vti_buf_reserve(out, n + 16), r, done);
    ENSURE_GOTO(EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1,
                VT_ERR_INTERNAL, r, done);
    ENSURE_GOTO(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) == 1,
                VT_ERR_INTERNAL, r, done);
    ENSURE_GOTO(EVP_EncryptInit_ex(c, NULL, NULL, key, iv) == 1, VT_ERR_INTERNAL, r, done);
    if (aad_len)
        ENSURE_GOTO(EVP_EncryptUpdate(c, NULL, &len, aad, (int)aad_len) == 1, VT_ERR_INTERNAL,
                    r, done);
    uint8_t *o = out->p + out->len;
    len = 0;
    if (n)
        ENSURE_GOTO(EVP_EncryptUpdate(c, o, &len, pt, (int)n) == 1, VT_ERR_INTERNAL, r, done);
    int fin = 0;
    ENSURE_GOTO(EVP_EncryptFinal_ex(c, o + len, &fin) == 1, VT_ERR_INTERNAL, r, done);
    ENSURE_GOTO((size_t)(len + fin) == n, VT_ERR_INTERNAL, r, done);
    ENSURE_GOTO(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, o + n) == 1, VT_ERR_INTERNAL,
                r, done);
    out->len += n + 16;
done:
    EVP_CIPHER_CTX_free(c);
    return r;
}

vt_res vtb_gcm_open(const uint8_t key[32], const uint8_t iv[12], const uint8_t *aad,
                    size_t aad_len, const uint8_t *ct, size_t n, struct vt_buf *out)
{
    ENSURE(n >= 16, VT_ERR_BROKER_UNWRAP_FAILED);
    ENSURE(n <= INT32_MAX && aad_len <= INT32_MAX, VT_ERR_TOO_LARGE);
    size_t m = n - 16;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    ENSURE(c, VT_ERR_NOMEM);
    vt_res r = vti_ok();
    int len = 0, fin = 0;
    size_t start = out->len;
    uint8_t tag[16];
    memcpy(tag, ct + m, 16);
    GUARD_GOTO(vti_buf_reserve(out, m + 1), r, done);
    ENSURE_GOTO(EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1,
                VT_ERR_INTERNAL, r, done);
    ENSURE_GOTO(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) == 1,
                VT_ERR_INTERNAL, r, done);
    ENSURE_GOTO(EVP_DecryptInit_ex(c, NULL, NULL, key, iv) == 1, VT_ERR_INTERNAL, r, done);
    if (aad_len)
        ENSURE_GOTO(EVP_DecryptUpdate(c, NULL, &len, aad, (int)aad_len) == 1, VT_ERR_INTERNAL,
                    r, done);
    len = 0;
    if (m)
        ENSURE_GOTO(EVP_DecryptUpdate(c, out->p + start, &len, ct, (int)m) == 1,
                    VT_ERR_INTERNAL, r, done);
    ENSURE_GOTO(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tag) == 1, VT_ERR_INTERNAL,
                r, done);
    if (EVP_DecryptFinal_ex(c, out->p + start + len, &fin) != 1) {
        vti_memzero(out->p + start, m);
        r = VT_FAIL(VT_ERR_BROKER_UNWRAP_FAILED);
        goto done;
    }
    out->len = start + m;
    out->p[out->len] = 0;
done:
    EVP_CIPHER_CTX_free(c);
    return r;
}

/* ---- master key -------------------------------------------------------------------- */

static vt_res parse_master(const struct vt_buf *b, uint8_t *key)
{
    size_t n = b->len;
    while (n > 0 && (b->p[n - 1] == '\n' || b->p[n - 1] == '\r'))
        n--;
    if (b->len == VTB_MASTER_KEY_LEN) {
        memcpy(key, b->p, VTB_MASTER_KEY_LEN);
        return vti_ok();
    }
    ENSURE(n == 2 * VTB_MASTER_KEY_LEN, VT_ERR_BROKER_MASTER_KEY_FORMAT);
    char hex[2 * VTB_MASTER_KEY_LEN + 1];
    memcpy(hex, b->p, n);
    hex[n] = 0;
    vt_res r = vti_hex_decode_fixed(hex, key, VTB_MASTER_KEY_LEN);
    vti_memzero(hex, sizeof(hex));
    ENSURE(!r.err, VT_ERR_BROKER_MASTER_KEY_FORMAT);
    return vti_ok();
}

/* A key whose bytes are all equal (all zero, all 0xff, ...) is a placeholder, not a key:
 * refused (and wiped). The scan does not branch on key bytes. */
static vt_res master_not_weak(uint8_t *key)
{
    uint8_t diff = 0;
    for (size_t i = 1; i < VTB_MASTER_KEY_LEN; i++)
        diff |= (uint8_t)(key[i] ^ key[0]);
    if (diff == 0) {
        vti_memzero(key, VTB_MASTER_KEY_LEN);
        return VT_FAIL(VT_ERR_BROKER_MASTER_KEY_WEAK);
    }
    return vti_ok();
}

/* The opened master key file (symbolic links followed, e.g. a Kubernetes secret's ..data
 * chain): a regular file owned by root or by us, with no group/other permission bit. */
static vt_res master_file_check(int fd)
{
    struct stat st;
    ENSURE(fstat(fd, &st) == 0, VT_ERR_IO);
    ENSURE(S_ISREG(st.st_mode), VT_ERR_BROKER_MASTER_KEY_NOT_FILE);
    ENSURE(st.st_uid == 0 || st.st_uid == geteuid(), VT_ERR_BROKER_MASTER_KEY_OWNER);
    ENSURE((st.st_mode & 077) == 0, VT_ERR_BROKER_MASTER_KEY_PERMS);
    ENSURE(st.st_size <= 256, VT_ERR_BROKER_MASTER_KEY_FORMAT);
    return vti_ok();
}

vt_res vtb_master_key_load(const char *path, uint8_t *key)
{
    char cred[4096];
    if (!path) {
        const char *dir = secure_getenv("CREDENTIALS_DIRECTORY");
        ENSURE(dir && *dir, VT_ERR_BROKER_CONFIG);
        int k = snprintf(cred, sizeof(cred), "%s/master-key", dir);
        ENSURE(k > 0 && (size_t)k < sizeof(cred), VT_ERR_BROKER_CONFIG);
        path = cred;
    }
    /* symbolic links are followed: what is checked is the file actually opened (fstat);
     * O_NONBLOCK so that a FIFO planted there does not hang the start-up */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    ENSURE(fd >= 0, errno == ENOENT ? VT_ERR_NOT_FOUND : VT_ERR_IO);
    vt_res r = vti_ok();
    struct vt_buf b = VT_BUF_INIT;
    GUARD_GOTO(master_file_check(fd), r, out);
    b.max = 1024;
    for (;;) {
        GUARD_GOTO(vti_buf_reserve(&b, 260), r, out);
        ssize_t n = read(fd, b.p + b.len, b.cap - b.len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        ENSURE_GOTO(n >= 0, VT_ERR_IO, r, out);
        if (n == 0)
            break;
        b.len += (size_t)n;
        ENSURE_GOTO(b.len <= 256, VT_ERR_BROKER_MASTER_KEY_FORMAT, r, out);
    }
    r = parse_master(&b, key);
    if (!r.err)
        r = master_not_weak(key);
out:
    vti_buf_free(&b);
    close(fd);
    return r;
}

vt_res vtb_master_key_generate(const char *path)
{
    uint8_t key[VTB_MASTER_KEY_LEN];
    char hex[2 * VTB_MASTER_KEY_LEN + 2];
    GUARD_OSSL(RAND_bytes(key, sizeof(key)), VT_ERR_INTERNAL);
    vti_hex_encode(key, sizeof(key), hex);
    vti_memzero(key, sizeof(key));
    size_t n = strlen(hex);
    hex[n++] = '\n';
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    vt_res r = vti_ok();
    if (fd < 0) {
        r = VT_FAIL(errno == EEXIST ? VT_ERR_BROKER_EXISTS : VT_ERR_IO);
    } else {
        if (write(fd, hex, n) != (ssize_t)n || fsync(fd) != 0)
            r = VT_FAIL(VT_ERR_IO);
        close(fd);
    }
    vti_memzero(hex, sizeof(hex));
    return r;
}

/* ---- envelope ------------------------------------------------------------------------ */

static vt_res aad_build(const char *kind, const char *path, int64_t version, struct vt_buf *a)
{
    static const char tag[] = "veritee-store-v1";
    GUARD(vti_buf_append(a, tag, sizeof(tag))); /* includes the NUL */
    GUARD(vti_buf_append(a, kind, strlen(kind) + 1));
    GUARD(vti_buf_append(a, path, strlen(path) + 1));
    return vti_buf_printf(a, "%" PRId64, version);
}

static vt_res seal(struct vtb_kms *k, const char *kind, const char *path, int64_t version,
                   const uint8_t *pt, size_t n, struct vt_buf *out)
{
    struct vt_buf aad = VT_BUF_INIT;
    uint8_t iv[12];
    vt_res r = vti_ok();
    GUARD_GOTO(aad_build(kind, path, version, &aad), r, out);
    ENSURE_GOTO(RAND_bytes(iv, sizeof(iv)) == 1, VT_ERR_INTERNAL, r, out);
    GUARD_GOTO(vti_buf_u8(out, ENVELOPE_VERSION), r, out);
    GUARD_GOTO(vti_buf_append(out, iv, sizeof(iv)), r, out);
    r = vtb_gcm_seal(k->master, iv, aad.p, aad.len, pt, n, out);
out:
    vti_buf_free(&aad);
    return r;
}

static vt_res unseal(struct vtb_kms *k, const char *kind, const char *path, int64_t version,
                     const struct vt_buf *blob, struct vt_buf *out)
{
    ENSURE(blob->len >= 1 + 12 + 16 && blob->p[0] == ENVELOPE_VERSION,
           VT_ERR_BROKER_STORE_CORRUPT);
    struct vt_buf aad = VT_BUF_INIT;
    vt_res r = aad_build(kind, path, version, &aad);
    if (!r.err)
        r = vtb_gcm_open(k->master, blob->p + 1, aad.p, aad.len, blob->p + 13, blob->len - 13,
                         out);
    vti_buf_free(&aad);
    if (r.err == VT_ERR_BROKER_UNWRAP_FAILED)
        r = VT_FAIL(VT_ERR_BROKER_STORE_CORRUPT);
    return r;
}

/* ---- open / close ------------------------------------------------------------------- */

void vtb_kms_close(struct vtb_kms *k)
{
    if (!k)
        return;
    if (k->st)
        k->ops->close(k->st);
    if (k->master) {
        vti_memzero(k->master, k->master_map);
        munlock(k->master, k->master_map);
        munmap(k->master, k->master_map);
    }
    free(k);
}

void vtb_kms_wipe(struct vtb_kms *k)
{
    if (k && k->master)
        vti_memzero(k->master, VTB_MASTER_KEY_LEN);
}

/* ---- master key rotation ------------------------------------------------------------- */

struct rekey {
    struct vtb_kms *k;
    const uint8_t *new_master;
    size_t count;
};

static vt_res rekey_one(const char *path, const char *kind, int64_t version, const uint8_t *blob,
                        size_t n, struct vt_buf *out, void *arg)
{
    struct rekey *rk = arg;
    struct vt_buf in = { .p = vti_unconst(blob), .len = n, .cap = n }, pt = VT_BUF_INIT;
    vt_res r = unseal(rk->k, kind, path, version, &in, &pt); /* authenticates under the old key */
    if (!r.err) {
        struct vtb_kms tmp = { .master = vti_unconst(rk->new_master) };
        r = seal(&tmp, kind, path, version, pt.p, pt.len, out);
    }
    vti_buf_free(&pt);
    if (!r.err)
        rk->count++;
    return r;
}

static vt_res latest_mac(const struct vtb_kms *k, const char *path, int64_t version,
                         bool deleted, uint8_t *out);

/* One tagged row at rotation: a row that authenticates under the old key gets its tag under
 * the new one; any other row is left as it is (still refused: never laundered). */
static vt_res rekey_retag(const struct vtb_tagged_row *row, uint8_t *mac, bool *update, void *arg)
{
    struct rekey *rk = arg;
    struct vtb_kms nk = { .master = vti_unconst(rk->new_master) };
    *update = false;
    if (strcmp(row->table, "policy") == 0) {
        if (vtb_kms_policy_check_row(rk->k, row->doc, row->updated, row->mac,
                                     row->mac != NULL).err)
            return vti_ok();
        GUARD(vtb_kms_policy_mac(&nk, row->doc, row->updated, mac));
    } else if (strcmp(row->table, "refvals") == 0) {
        if (vtb_kms_refval_check_row(rk->k, row->rv).err)
            return vti_ok();
        GUARD(vtb_kms_refval_mac(&nk, row->rv, mac));
    } else if (strcmp(row->table, "secret_latest") == 0) {
        uint8_t want[VTB_MAC_LEN];
        GUARD(latest_mac(rk->k, row->path, row->lt->version, row->lt->deleted, want));
        if (!row->mac || !vti_ct_eq(want, row->mac, VTB_MAC_LEN))
            return vti_ok();
        GUARD(latest_mac(&nk, row->path, row->lt->version, row->lt->deleted, mac));
    } else {
        return VT_FAIL(VT_ERR_INTERNAL);
    }
    *update = true;
    return vti_ok();
}

/* The secrets, the check value and the tags of the policy, reference-value and
 * latest-version rows change key in ONE store transaction (reseal_retag): a rotation killed
 * at any instant leaves all of them under the old key or all under the new one. */
vt_res vtb_kms_rekey(struct vtb_kms *k, const uint8_t *new_master, size_t *ret_count)
{
    ENSURE(k->ops->reseal_retag, VT_ERR_UNSUPPORTED);
    ENSURE(!vti_ct_eq(k->master, new_master, VTB_MASTER_KEY_LEN), VT_ERR_INVALID_ARG);
    static const char *const meta[] = { "master-check", NULL };
    struct rekey rk = { .k = k, .new_master = new_master };
    GUARD(k->ops->reseal_retag(k->st, meta, rekey_one, rekey_retag, &rk));
    memcpy(k->master, new_master, VTB_MASTER_KEY_LEN);
    if (ret_count)
        *ret_count = rk.count;
    return vti_ok();
}

static vt_res latest_tag_cb(const char *path, int64_t version, bool deleted, uint8_t *mac,
                            void *arg)
{
    return latest_mac(arg, path, version, deleted, mac);
}

/* A store whose check value is v1 predates the latest-version records: every secret path
 * gets its record (the newest stored version, as found now) and the check value becomes v2,
 * in one transaction, once (a later start sees v2; brokers starting together: the second
 * finds nothing left to adopt). */
static vt_res kms_adopt(struct vtb_kms *k)
{
    ENSURE(k->ops->latest_adopt, VT_ERR_UNSUPPORTED);
    struct vt_buf blob = VT_BUF_INIT;
    vt_res r = seal(k, "meta", "master-check", 1, (const uint8_t *)CHECK_PLAINTEXT,
                    strlen(CHECK_PLAINTEXT), &blob);
    if (!r.err)
        r = k->ops->latest_adopt(k->st, latest_tag_cb, k, "master-check", blob.p, blob.len);
    vti_buf_free_nowipe(&blob);
    if (!r.err)
        VT_INFO("broker store: latest-version records created for the existing secrets "
                "(rollback detection adopted)");
    return r;
}

/* The opened check value: v2 is current, v1 is adopted, anything else is not ours. */
static vt_res check_version(struct vtb_kms *k, const struct vt_buf *pt)
{
    size_t n2 = strlen(CHECK_PLAINTEXT);
    if (pt->len == n2 && vti_ct_eq(pt->p, CHECK_PLAINTEXT, n2))
        return vti_ok();
    size_t n1 = strlen(CHECK_PLAINTEXT_V1);
    ENSURE(pt->len == n1 && vti_ct_eq(pt->p, CHECK_PLAINTEXT_V1, n1),
           VT_ERR_BROKER_STORE_CORRUPT);
    return kms_adopt(k);
}

/* The store's master-key check value opens under our key; a fresh store gets ours. The
 * insert fails if another broker got there first (meta_put never replaces): then its row is
 * read back and must open under our key too, so a store never holds secrets under two keys. */
static vt_res check_master(struct vtb_kms *k)
{
    struct vt_buf blob = VT_BUF_INIT, pt = VT_BUF_INIT;
    vt_res r = k->ops->meta_get(k->st, "master-check", &blob);
    if (r.err == VT_ERR_NOT_FOUND) {
        r = seal(k, "meta", "master-check", 1, (const uint8_t *)CHECK_PLAINTEXT,
                 strlen(CHECK_PLAINTEXT), &blob);
        if (!r.err)
            r = k->ops->meta_put(k->st, "master-check", blob.p, blob.len);
        if (r.err == VT_ERR_BROKER_EXISTS) {
            blob.len = 0;
            r = k->ops->meta_get(k->st, "master-check", &blob);
            if (!r.err)
                r = unseal(k, "meta", "master-check", 1, &blob, &pt);
            if (r.err == VT_ERR_BROKER_STORE_CORRUPT)
                r = VT_FAIL(VT_ERR_BROKER_MASTER_KEY_WRONG);
            if (!r.err)
                r = check_version(k, &pt);
        }
    } else if (!r.err) {
        r = unseal(k, "meta", "master-check", 1, &blob, &pt);
        if (r.err == VT_ERR_BROKER_STORE_CORRUPT)
            r = VT_FAIL(VT_ERR_BROKER_MASTER_KEY_WRONG);
        if (!r.err)
            r = check_version(k, &pt);
    }
    vti_buf_free(&blob);
    vti_buf_free(&pt);
    return r;
}

vt_res vtb_kms_open(const struct vtb_store_ops *ops, const char *where,
                    const uint8_t *master_key, struct vtb_kms **ret)
{
    struct vtb_kms *k = calloc(1, sizeof(*k));
    ENSURE(k, VT_ERR_NOMEM);
    k->ops = ops;
    long pg = sysconf(_SC_PAGESIZE);
    k->master_map = pg > 0 ? (size_t)pg : 4096;
    void *m = mmap(NULL, k->master_map, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    if (m == MAP_FAILED) {
        free(k);
        return VT_FAIL(VT_ERR_NOMEM);
    }
    k->master = m;
    (void)mlock(m, k->master_map);            /* best effort: RLIMIT_MEMLOCK may forbid */
    (void)madvise(m, k->master_map, MADV_DONTDUMP);
    memcpy(k->master, master_key, VTB_MASTER_KEY_LEN);
    vt_res r = ops->open(where, &k->st);
    if (!r.err)
        r = check_master(k);
    if (r.err) {
        vtb_kms_close(k);
        return r;
    }
    *ret = k;
    return vti_ok();
}

struct vtb_store *vtb_kms_store(struct vtb_kms *k) { return k->st; }
const struct vtb_store_ops *vtb_kms_ops(struct vtb_kms *k) { return k->ops; }

/* ---- operations ---------------------------------------------------------------------- */

/* The newest version of path for a writer (0: none) and its kind (*exists: a row is there):
 * the numbering continues past the authenticated latest-version record, so that a path
 * deleted and created again never reuses a version number (an old blob of the same path and
 * version would otherwise pass for the new one). */
static vt_res head_for_write(struct vtb_kms *k, const char *path, char *kind, int64_t *ver,
                             bool *exists)
{
    ENSURE(k->ops->secret_get_latest, VT_ERR_UNSUPPORTED);
    struct vt_buf old = VT_BUF_INIT;
    struct vtb_latest rec;
    int64_t newest = 0, got = 0;
    vt_res r = k->ops->secret_get_latest(k->st, path, 0, kind, &got, &old, &newest, &rec);
    vti_buf_free_nowipe(&old); /* ciphertext */
    if (r.err && r.err != VT_ERR_BROKER_UNKNOWN_RESOURCE)
        return r;
    *exists = !r.err;
    *ver = newest;
    uint8_t want[VTB_MAC_LEN];
    if (rec.present && rec.has_mac && rec.version > newest &&
        !latest_mac(k, path, rec.version, rec.deleted, want).err &&
        vti_ct_eq(want, rec.mac, VTB_MAC_LEN))
        *ver = rec.version;
    return vti_ok();
}

vt_res vtb_kms_put_resource(struct vtb_kms *k, const char *path, const uint8_t *p, size_t n,
                            int64_t now)
{
    GUARD(vtp_path_check(path));
    ENSURE(n <= VTP_MAX_SECRET, VT_ERR_BROKER_SECRET_TOO_LARGE);
    ENSURE(k->ops->secret_put_latest, VT_ERR_UNSUPPORTED);
    char kind[16];
    int64_t ver = 0;
    bool exists = false;
    GUARD(head_for_write(k, path, kind, &ver, &exists));
    if (exists && strcmp(kind, VTB_KIND_RESOURCE) != 0)
        return VT_FAIL(VT_ERR_BROKER_EXISTS); /* a key of that name: delete it first */
    ver++;
    struct vt_buf blob = VT_BUF_INIT;
    vt_res r = seal(k, VTB_KIND_RESOURCE, path, ver, p, n, &blob);
    if (!r.err)
        r = k->ops->secret_put_latest(k->st, path, VTB_KIND_RESOURCE, ver, blob.p, blob.len,
                                      true, now, latest_tag_cb, k);
    vti_buf_free(&blob);
    return r;
}

static vt_res put_new_key(struct vtb_kms *k, const char *path, int64_t ver, int64_t now)
{
    ENSURE(k->ops->secret_put_latest, VT_ERR_UNSUPPORTED);
    uint8_t key[VTB_KEK_LEN];
    struct vt_buf blob = VT_BUF_INIT;
    GUARD_OSSL(RAND_bytes(key, sizeof(key)), VT_ERR_INTERNAL);
    vt_res r = seal(k, VTB_KIND_KEY, path, ver, key, sizeof(key), &blob);
    vti_memzero(key, sizeof(key));
    if (!r.err)
        r = k->ops->secret_put_latest(k->st, path, VTB_KIND_KEY, ver, blob.p, blob.len, false,
                                      now, latest_tag_cb, k);
    vti_buf_free(&blob);
    return r;
}

vt_res vtb_kms_key_create_v(struct vtb_kms *k, const char *path, int64_t now,
                            int64_t *ret_version)
{
    GUARD(vtp_path_check(path));
    char kind[16];
    int64_t ver = 0;
    bool exists = false;
    GUARD(head_for_write(k, path, kind, &ver, &exists));
    ENSURE(!exists, VT_ERR_BROKER_EXISTS);
    GUARD(put_new_key(k, path, ver + 1, now));
    if (ret_version)
        *ret_version = ver + 1;
    return vti_ok();
}

vt_res vtb_kms_key_create(struct vtb_kms *k, const char *path, int64_t now)
{
    return vtb_kms_key_create_v(k, path, now, NULL);
}

vt_res vtb_kms_key_rotate(struct vtb_kms *k, const char *path, int64_t now,
                          int64_t *ret_version)
{
    GUARD(vtp_path_check(path));
    char kind[16];
    int64_t ver = 0;
    bool exists = false;
    GUARD(head_for_write(k, path, kind, &ver, &exists));
    ENSURE(exists, VT_ERR_BROKER_UNKNOWN_RESOURCE);
    ENSURE(strcmp(kind, VTB_KIND_KEY) == 0, VT_ERR_BROKER_NOT_A_KEY);
    GUARD(put_new_key(k, path, ver + 1, now));
    if (ret_version)
        *ret_version = ver + 1;
    return vti_ok();
}

/* The latest-version record against the rows read with it (one snapshot): refused unless it
 * is there, authenticates, is not a deletion and names the newest stored version. */
static vt_res latest_check(struct vtb_kms *k, const char *path, int64_t newest,
                           const struct vtb_latest *rec)
{
    const char *why = NULL;
    uint8_t want[VTB_MAC_LEN];
    if (!rec->present)
        why = "no latest-version record";
    else if (!rec->has_mac)
        why = "latest-version record without a tag";
    else if (latest_mac(k, path, rec->version, rec->deleted, want).err ||
             !vti_ct_eq(want, rec->mac, VTB_MAC_LEN))
        why = "latest-version record failed authentication";
    else if (rec->deleted)
        why = "the secret was deleted";
    else if (rec->version != newest)
        why = "the newest stored version is not the latest written";
    if (!why)
        return vti_ok();
    VT_WARN("SECRET ROLLBACK: %s: %s (newest stored version %lld, latest record version %lld): "
            "refused", path, why, (long long)newest, rec->present ? (long long)rec->version : 0LL);
    return VT_FAIL(VT_ERR_BROKER_SECRET_ROLLBACK);
}

vt_res vtb_kms_get(struct vtb_kms *k, const char *path, int64_t version, char *kind,
                   int64_t *ret_version, struct vt_buf *out)
{
    GUARD(vtp_path_check(path));
    ENSURE(k->ops->secret_get_latest, VT_ERR_UNSUPPORTED);
    struct vt_buf blob = VT_BUF_INIT, pt = VT_BUF_INIT;
    struct vtb_latest rec;
    int64_t ver = 0, newest = 0;
    vt_res r = k->ops->secret_get_latest(k->st, path, version, kind, &ver, &blob, &newest, &rec);
    /* the blob first (a damaged blob or a wrong key stays VT_ERR_BROKER_STORE_CORRUPT), into
     * a buffer of our own: nothing reaches out unless the record says it is the latest */
    if (!r.err)
        r = unseal(k, kind, path, ver, &blob, &pt);
    if (!r.err)
        r = latest_check(k, path, newest, &rec);
    if (!r.err)
        r = vti_buf_append(out, pt.p, pt.len);
    if (!r.err)
        r = vti_buf_cstr(out); /* as unseal leaves it */
    vti_buf_free(&pt);
    vti_buf_free_nowipe(&blob); /* ciphertext */
    if (!r.err && ret_version)
        *ret_version = ver;
    return r;
}

vt_res vtb_kms_put_internal(struct vtb_kms *k, const char *name, const char *kind,
                            const uint8_t *p, size_t n, int64_t now)
{
    ENSURE(name && name[0] == '@' && kind && strlen(kind) < 16, VT_ERR_INVALID_ARG);
    struct vt_buf blob = VT_BUF_INIT;
    ENSURE(k->ops->secret_put_latest, VT_ERR_UNSUPPORTED);
    vt_res r = seal(k, kind, name, 1, p, n, &blob);
    if (!r.err)
        r = k->ops->secret_put_latest(k->st, name, kind, 1, blob.p, blob.len, false, now,
                                      latest_tag_cb, k);
    vti_buf_free(&blob);
    return r;
}

vt_res vtb_kms_get_internal(struct vtb_kms *k, const char *name, const char *kind,
                            struct vt_buf *out)
{
    ENSURE(name && name[0] == '@' && kind, VT_ERR_INVALID_ARG);
    struct vt_buf blob = VT_BUF_INIT;
    char got[16];
    int64_t ver;
    vt_res r = k->ops->secret_get(k->st, name, 1, got, &ver, &blob);
    if (!r.err && strcmp(got, kind) != 0)
        r = VT_FAIL(VT_ERR_BROKER_STORE_CORRUPT);
    if (!r.err)
        r = unseal(k, kind, name, 1, &blob, out);
    vti_buf_free(&blob);
    return r;
}

vt_res vtb_kms_delete(struct vtb_kms *k, const char *path)
{
    GUARD(vtp_path_check(path));
    ENSURE(k->ops->secret_delete_latest, VT_ERR_UNSUPPORTED);
    return k->ops->secret_delete_latest(k->st, path, latest_tag_cb, k);
}

static vt_res wrap_aad(const char *kid, int64_t ver, struct vt_buf *a)
{
    static const char tag[] = "veritee-wrap-v1";
    GUARD(vti_buf_append(a, tag, sizeof(tag)));
    GUARD(vti_buf_append(a, kid, strlen(kid) + 1));
    return vti_buf_printf(a, "%" PRId64, ver);
}

vt_res vtb_kms_wrap(struct vtb_kms *k, const char *path, const uint8_t *pt, size_t n,
                    struct vtp_wrapped *w)
{
    char kind[16];
    int64_t ver = 0;
    struct vt_buf key = VT_BUF_INIT, aad = VT_BUF_INIT;
    memset(w, 0, sizeof(*w));
    vt_res r = vtb_kms_get(k, path, 0, kind, &ver, &key);
    if (r.err)
        goto out;
    ENSURE_GOTO(strcmp(kind, VTB_KIND_KEY) == 0 && key.len == VTB_KEK_LEN,
                VT_ERR_BROKER_NOT_A_KEY, r, out);
    snprintf(w->kid, sizeof(w->kid), "%s", path);
    w->key_version = ver;
    ENSURE_GOTO(RAND_bytes(w->iv, sizeof(w->iv)) == 1, VT_ERR_INTERNAL, r, out);
    GUARD_GOTO(wrap_aad(w->kid, ver, &aad), r, out);
    r = vtb_gcm_seal(key.p, w->iv, aad.p, aad.len, pt, n, &w->ct);
out:
    vti_buf_free(&key);
    vti_buf_free(&aad);
    return r;
}

vt_res vtb_kms_unwrap(struct vtb_kms *k, const struct vtp_wrapped *w, struct vt_buf *out)
{
    char kind[16];
    int64_t ver = 0;
    struct vt_buf key = VT_BUF_INIT, aad = VT_BUF_INIT;
    vt_res r = vtb_kms_get(k, w->kid, w->key_version, kind, &ver, &key);
    if (r.err)
        goto out;
    ENSURE_GOTO(strcmp(kind, VTB_KIND_KEY) == 0 && key.len == VTB_KEK_LEN,
                VT_ERR_BROKER_NOT_A_KEY, r, out);
    GUARD_GOTO(wrap_aad(w->kid, ver, &aad), r, out);
    r = vtb_gcm_open(key.p, w->iv, aad.p, aad.len, w->ct.p, w->ct.len, out);
out:
    vti_buf_free(&key);
    vti_buf_free(&aad);
    return r;
}

/* ---- row authentication (policy, reference values) ---------------------------------- */

/* HKDF-SHA256(master, salt "veritee-store-mac-v1", info "veritee-mac/" purpose) -> 32 bytes */
static vt_res mac_key(const struct vtb_kms *k, const char *purpose, uint8_t *key)
{
    char info[96];
    int il = snprintf(info, sizeof(info), "veritee-mac/%s", purpose);
    ENSURE(il > 0 && (size_t)il < sizeof(info), VT_ERR_INVALID_ARG);
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *c = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    EVP_KDF_free(kdf);
    ENSURE(c, VT_ERR_INTERNAL);
    static const char salt[] = "veritee-store-mac-v1";
    OSSL_PARAM p[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, vti_unconst("SHA256"), 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, k->master, VTB_MASTER_KEY_LEN),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, vti_unconst(salt),
                                          sizeof(salt) - 1),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, (size_t)il),
        OSSL_PARAM_construct_end(),
    };
    int ok = EVP_KDF_derive(c, key, VTB_MAC_LEN, p);
    EVP_KDF_CTX_free(c);
    ENSURE(ok == 1, VT_ERR_INTERNAL);
    return vti_ok();
}

vt_res vtb_kms_mac(struct vtb_kms *k, const char *purpose, const uint8_t *msg, size_t n,
                   uint8_t *out)
{
    ENSURE(k && purpose && (msg || !n) && out, VT_ERR_INVALID_ARG);
    uint8_t key[VTB_MAC_LEN];
    GUARD(mac_key(k, purpose, key));
    unsigned int len = 0;
    const uint8_t *m = HMAC(EVP_sha256(), key, sizeof(key), msg ? msg : key, n, out, &len);
    vti_memzero(key, sizeof(key));
    ENSURE(m && len == VTB_MAC_LEN, VT_ERR_INTERNAL);
    return vti_ok();
}

/* Canonical, unambiguous encoding: every field is a 4-byte big-endian length and its bytes
 * (integers as 8-byte big-endian two's complement), in a fixed order. */
static vt_res enc_bytes(struct vt_buf *b, const void *p, size_t n)
{
    ENSURE(n <= UINT32_MAX, VT_ERR_TOO_LARGE);
    uint8_t l[4] = { (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n };
    GUARD(vti_buf_append(b, l, sizeof(l)));
    return vti_buf_append(b, p, n);
}

static vt_res enc_str(struct vt_buf *b, const char *s)
{
    return enc_bytes(b, s ? s : "", s ? strlen(s) : 0);
}

static vt_res enc_i64(struct vt_buf *b, int64_t v)
{
    uint8_t x[8];
    for (int i = 0; i < 8; i++)
        x[i] = (uint8_t)((uint64_t)v >> (56 - 8 * i));
    return enc_bytes(b, x, sizeof(x));
}

vt_res vtb_kms_policy_mac(struct vtb_kms *k, const char *doc, int64_t updated, uint8_t *out)
{
    struct vt_buf b = VT_BUF_INIT;
    vt_res r = enc_str(&b, "policy");
    if (!r.err)
        r = enc_i64(&b, 1); /* the row id: the table holds one row */
    if (!r.err)
        r = enc_i64(&b, updated);
    if (!r.err)
        r = enc_str(&b, doc);
    if (!r.err)
        r = vtb_kms_mac(k, "policy-row", b.p, b.len, out);
    vti_buf_free_nowipe(&b);
    return r;
}

vt_res vtb_kms_refval_mac(struct vtb_kms *k, const struct vtb_refval *rv, uint8_t *out)
{
    struct vt_buf b = VT_BUF_INIT;
    vt_res r = enc_str(&b, "refvals");
    if (!r.err)
        r = enc_str(&b, rv->name);
    if (!r.err)
        r = enc_str(&b, rv->value);
    if (!r.err)
        r = enc_str(&b, rv->source);
    if (!r.err)
        r = enc_i64(&b, rv->expires);
    if (!r.err)
        r = enc_i64(&b, rv->added);
    if (!r.err)
        r = vtb_kms_mac(k, "refval-row", b.p, b.len, out);
    vti_buf_free_nowipe(&b);
    return r;
}

/* The latest-version record of a secret path: ("secret_latest", path, version, deleted). */
static vt_res latest_mac(const struct vtb_kms *k, const char *path, int64_t version,
                         bool deleted, uint8_t *out)
{
    struct vt_buf b = VT_BUF_INIT;
    vt_res r = enc_str(&b, "secret_latest");
    if (!r.err)
        r = enc_str(&b, path);
    if (!r.err)
        r = enc_i64(&b, version);
    if (!r.err)
        r = enc_i64(&b, deleted ? 1 : 0);
    if (!r.err)
        r = vtb_kms_mac(vti_unconst(k), "secret-latest", b.p, b.len, out);
    vti_buf_free_nowipe(&b);
    return r;
}

vt_res vtb_kms_latest_mac(struct vtb_kms *k, const char *path, int64_t version, bool deleted,
                          uint8_t *out)
{
    ENSURE(k && path && out, VT_ERR_INVALID_ARG);
    return latest_mac(k, path, version, deleted, out);
}

vt_res vtb_kms_policy_check_row(struct vtb_kms *k, const char *doc, int64_t updated,
                                const uint8_t *mac, bool has_mac)
{
    ENSURE(has_mac, VT_ERR_BROKER_POLICY_UNAUTHENTICATED);
    uint8_t want[VTB_MAC_LEN];
    GUARD(vtb_kms_policy_mac(k, doc, updated, want));
    ENSURE(vti_ct_eq(want, mac, VTB_MAC_LEN), VT_ERR_BROKER_POLICY_TAMPERED);
    return vti_ok();
}

vt_res vtb_kms_refval_check_row(struct vtb_kms *k, const struct vtb_refval *rv)
{
    ENSURE(rv->has_mac, VT_ERR_BROKER_POLICY_UNAUTHENTICATED);
    uint8_t want[VTB_MAC_LEN];
    GUARD(vtb_kms_refval_mac(k, rv, want));
    ENSURE(vti_ct_eq(want, rv->mac, VTB_MAC_LEN), VT_ERR_BROKER_POLICY_TAMPERED);
    return vti_ok();
}

vt_res vtb_kms_policy_set(struct vtb_kms *k, const char *doc, int64_t now)
{
    ENSURE(k->ops->policy_put, VT_ERR_UNSUPPORTED);
    uint8_t mac[VTB_MAC_LEN];
    GUARD(vtb_kms_policy_mac(k, doc, now, mac));
    return k->ops->policy_put(k->st, doc, now, mac);
}

vt_res vtb_kms_refval_add(struct vtb_kms *k, const struct vtb_refval *rv, int64_t *ret_id)
{
    struct vtb_refval t = *rv;
    if (!t.source)
        t.source = "";
    GUARD(vtb_kms_refval_mac(k, &t, t.mac));
    t.has_mac = true;
    return k->ops->refval_add(k->st, &t, ret_id);
}
