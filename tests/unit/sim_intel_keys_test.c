/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_intel_keys_test.c - the sim Intel attester's key memo (src/attesters/sim_intel_keys.c):
 * a repeat load hits and yields the same keys and chain; one character changed in each of
 * the five files (at many positions) gets exactly what it gets with the memo empty (the same
 * error code, or the same newly decoded keys and chain), never the cached original; a
 * missing file is refused; restoring the file hits the original entry again.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "attesters/sim_intel_keys.h"
#include "core/instance.h"
#include "vt_test.h"

static char DIR_[512];
static const char *const FILES[5] = { "pck.pem", "pck.key", "pck-ca.pem", "root.pem", "ak.key" };

/* A loaded result in comparable form: code, public keys and chain. */
struct snap {
    int err;
    uint8_t pck[65], ak[65];
    struct vt_buf chain;
};

static void pub(EVP_PKEY *k, uint8_t out[65])
{
    size_t l = 0;
    memset(out, 0, 65);
    if (k && EVP_PKEY_get_octet_string_param(k, "encoded-pub-key", out, 65, &l) != 1)
        memset(out, 0xff, 65);
}

static struct snap take(void)
{
    struct vti_sim_intel_keys k;
    struct snap s = { 0 };
    s.err = vti_sim_intel_keys_load(DIR_, "pck", &k).err;
    if (!s.err) {
        pub(k.pck_key, s.pck);
        pub(k.ak, s.ak);
        CHECK(vti_is_ok(vti_buf_append(&s.chain, k.chain.p, k.chain.len)));
        vti_sim_intel_keys_free(&k);
    }
    return s;
}

static bool same(const struct snap *a, const struct snap *b)
{
    return a->err == b->err && !memcmp(a->pck, b->pck, 65) && !memcmp(a->ak, b->ak, 65) &&
           a->chain.len == b->chain.len &&
           (a->chain.len == 0 || !memcmp(a->chain.p, b->chain.p, a->chain.len));
}

static void path_of(const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s/intel/%s", DIR_, name);
}

/* Every 37th character (and the first and last) of one file changed in turn. */
static void tamper_file(const char *name, const struct snap *orig, int *changed, int *refused)
{
    char p[700];
    path_of(name, p, sizeof(p));
    struct vt_buf b = VT_BUF_INIT;
    CHECK_OK(vti_file_read(p, 1 << 16, &b));
    for (size_t i = 0; i < b.len; i += (i + 37 < b.len || i + 1 == b.len) ? 37 : b.len - 1 - i) {
        uint8_t was = b.p[i];
        b.p[i] = was == 'A' ? 'B' : 'A';
        CHECK_OK(vti_file_write(p, b.p, b.len, 0600));
        unsigned long h0, m0, h1, m1;
        vti_sim_intel_keys_stats(&h0, &m0);
        struct snap t = take(); /* the original is cached */
        vti_sim_intel_keys_stats(&h1, &m1);
        vti_sim_intel_keys_flush();
        struct snap u = take(); /* memo empty */
        CHECK(same(&t, &u));
        CHECK(h1 == h0 && m1 == m0 + 1); /* a changed file never hits the original */
        *changed += 1;
        *refused += t.err != 0;
        vti_buf_free(&t.chain);
        vti_buf_free(&u.chain);
        b.p[i] = was;
        CHECK_OK(vti_file_write(p, b.p, b.len, 0600));
        struct snap back = take(); /* refill the memo with the original */
        CHECK(same(&back, orig));
        vti_buf_free(&back.chain);
        if (i + 1 == b.len)
            break;
    }
    vti_buf_free(&b);
}

static void missing_file(const struct snap *orig)
{
    char p[700], q[720];
    path_of("ak.key", p, sizeof(p));
    snprintf(q, sizeof(q), "%s.moved", p);
    CHECK(rename(p, q) == 0);
    struct snap t = take();
    CHECK_ERR(t.err, VT_ERR_SIM_DIR_INVALID);
    CHECK(rename(q, p) == 0);
    unsigned long h0, m0, h1, m1;
    vti_sim_intel_keys_stats(&h0, &m0);
    struct snap back = take();
    vti_sim_intel_keys_stats(&h1, &m1);
    CHECK(same(&back, orig));
    CHECK(h1 == h0 + 1 && m1 == m0); /* the original entry was kept */
    vti_buf_free(&back.chain);
}

int main(void)
{
    CHECK_OK(vti_registry_init(NULL));
    snprintf(DIR_, sizeof(DIR_), "%s/sim", vt_test_tmpdir());
    mkdir(DIR_, 0700);
    const struct vt_instance_hdr *h = NULL;
    CHECK_OK(vti_instance_find(VT_KIND_ATTESTER, "sim-sgx", &h));
    CHECK_OK(((const struct vt_attester_ops *)h)->sim_init(DIR_, NULL));
    unsigned long h0, m0, h1, m1;
    vti_sim_intel_keys_stats(&h0, &m0);
    struct snap orig = take(), again = take();
    vti_sim_intel_keys_stats(&h1, &m1);
    CHECK_ERR(orig.err, VT_OK);
    CHECK(orig.chain.len > 1000 && same(&orig, &again));
    CHECK(m1 == m0 + 1 && h1 == h0 + 1);
    int changed = 0, refused = 0;
    for (int f = 0; f < 5; f++)
        tamper_file(FILES[f], &orig, &changed, &refused);
    printf("%d single-character changes, %d refused, none served from the memo\n", changed,
           refused);
    CHECK(changed > 50 && refused > changed / 3); /* the rest decode to other keys */
    missing_file(&orig);
    vti_buf_free(&orig.chain);
    vti_buf_free(&again.chain);
    vti_sim_intel_keys_flush();
    return vt_test_done();
}
