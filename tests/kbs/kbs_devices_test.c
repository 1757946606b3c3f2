/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kbs_devices_test.c - the GPUs of a KBS attestation (src/kbs/kbs_devices.c): the device nonce
 * as guest-components derives it (a known vector), sim GPUs verified with the configured
 * root, the device nonce single-use in the store (VT_ERR_KBS_DEVICE_NONCE_USED), a stale
 * nonce failing the devices (not the attestation), the device count and the same device
 * twice refused (VT_ERR_KBS_DEVICE_EVIDENCE), sim GPUs failed without allow_sim, and the EAR
 * submods turned back into policy input.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "attesters/sim_gpu.h"
#include "broker/kms.h"
#include "broker/state.h"
#include "kbs/kbs_devices.h"
#include "util/codec.h"
#include "vt_test.h"

static struct vtb_kms *kms;
static struct vtb_state st;
static struct vtk_server *srv, *strict;
static char simdir[512], root[600];
static int64_t now;
static json_t *jwk;

static void quiet(void *arg, const char *line)
{
    (void)arg;
    (void)line;
}

static void setup(void)
{
    char db[600];
    uint8_t mk[32];
    memset(mk, 7, sizeof(mk));
    now = (int64_t)time(NULL);
    snprintf(simdir, sizeof(simdir), "%s/sim", vt_test_tmpdir());
    CHECK(mkdir(simdir, 0700) == 0);
    CHECK_OK(vti_sim_gpu_init(simdir, NULL));
    snprintf(root, sizeof(root), "%s/gpu/root-ca.pem", simdir);
    snprintf(db, sizeof(db), "%s/kbs.db", vt_test_tmpdir());
    CHECK_OK(vtb_kms_open(&vtb_store_sqlite, db, mk, &kms));
    CHECK_OK(vtb_state_init(&st, kms));
    st.sink = quiet;
    struct vtk_config cfg = { .allow_sim = true, .root_ca = { root }, .n_root_ca = 1,
                              .token_lifetime = 60, .session_lifetime = 30 };
    CHECK_OK(vtk_new(&cfg, &st, now, &srv));
    cfg.allow_sim = false;
    CHECK_OK(vtk_new(&cfg, &st, now, &strict));
    jwk = json_pack("{s:s, s:s, s:s, s:s, s:s}", "kty", "EC", "crv", "P-256", "alg",
                    "ECDH-ES+A256KW", "x", "AAAA", "y", "BBBB");
}

/* {"nvidia": <count sim GPUs over the device nonce of (nonce, jwk)>}; dup: GPU 1 = GPU 0. */
static json_t *additional(const char *nonce, unsigned count, bool dup)
{
    uint8_t dn[32];
    struct vt_buf ev = VT_BUF_INIT;
    CHECK_OK(vtk_device_nonce(nonce, jwk, dn));
    CHECK_OK(vti_sim_gpu_evidence(simdir, dn, count, &ev));
    json_t *dev = json_loadb((const char *)ev.p, ev.len, 0, NULL);
    json_t *l = json_object_get(dev, "device_evidence_list");
    if (dup && json_array_size(l) > 1)
        json_array_set(l, 1, json_array_get(l, 0));
    vti_buf_free(&ev);
    return json_pack("{s:o}", "nvidia", dev);
}

static void test_nonce_vector(void)
{
    uint8_t dn[32], want[32];
    CHECK_OK(vtk_device_nonce("bm9uY2U=", jwk, dn));
    CHECK_OK(vti_hex_decode_fixed(
        "84311321a3f9248c2457e978ea553b35b2b6e99f0d949e55b9fc7fc104080757", want, 32));
    CHECK(memcmp(dn, want, 32) == 0);
}

static void test_verified_and_single_use(void)
{
    struct vtk_devices d;
    char why[300];
    json_t *add = additional("n-one", 2, false);
    CHECK_OK(vtk_devices_verify(srv, add, "n-one", jwk, now, &d, why, sizeof(why)));
    CHECK(d.n == 2 && d.d[0].verified && d.d[1].verified && d.d[0].insecure);
    CHECK(!strcmp(json_string_value(json_object_get(d.d[1].claims, "arch")), "HOPPER"));
    CHECK(json_object_get(d.d[0].claims, "measurement.1") == NULL);
    /* the EAR submods, and back to policy input */
    json_t *subs = vtk_devices_submods(&d, "p");
    struct vtk_device_input in;
    CHECK_OK(vtk_device_input(subs, &in));
    CHECK(in.n == 2 && in.dev[0].verified && in.dev[1].verified && in.dev[0].n_claims >= 5);
    vtk_device_input_free(&in);
    json_decref(subs);
    vtk_devices_free(&d);
    /* the same device nonce again: a replay, at any broker on this store */
    CHECK_ERR(vtk_devices_verify(strict, add, "n-one", jwk, now, &d, why, sizeof(why)),
              VT_ERR_KBS_DEVICE_NONCE_USED);
    /* the same reports under a new challenge: stale nonce, the devices fail */
    CHECK_OK(vtk_devices_verify(srv, add, "n-two", jwk, now, &d, why, sizeof(why)));
    CHECK(d.n == 2 && !d.d[0].verified && strstr(d.d[0].reason, "NV_NONCE_MISMATCH"));
    subs = vtk_devices_submods(&d, "p");
    CHECK_OK(vtk_device_input(subs, &in));
    CHECK(in.n == 2 && !in.dev[1].verified && in.dev[1].reason);
    vtk_device_input_free(&in);
    json_decref(subs);
    vtk_devices_free(&d);
    json_decref(add);
}

static void test_refusals(void)
{
    struct vtk_devices d;
    char why[300];
    json_t *add = additional("n-dup", 2, true);
    CHECK_ERR(vtk_devices_verify(srv, add, "n-dup", jwk, now, &d, why, sizeof(why)),
              VT_ERR_KBS_DEVICE_EVIDENCE);
    json_decref(add);
    add = additional("n-nine", 1, false);
    json_t *l = json_object_get(json_object_get(add, "nvidia"), "device_evidence_list");
    for (int i = 0; i < 8; i++)
        json_array_append(l, json_array_get(l, 0));
    CHECK_ERR(vtk_devices_verify(srv, add, "n-nine", jwk, now, &d, why, sizeof(why)),
              VT_ERR_KBS_DEVICE_EVIDENCE);
    json_decref(add);
    /* sim GPUs at a broker without allow_sim: failed devices */
    add = additional("n-strict", 1, false);
    CHECK_OK(vtk_devices_verify(strict, add, "n-strict", jwk, now, &d, why, sizeof(why)));
    CHECK(d.n == 1 && !d.d[0].verified && strstr(d.d[0].reason, "--allow-sim"));
    vtk_devices_free(&d);
    json_decref(add);
    /* no nvidia entry: no devices */
    add = json_pack("{s:i}", "other", 1);
    CHECK_OK(vtk_devices_verify(srv, add, "n-other", jwk, now, &d, why, sizeof(why)));
    CHECK(d.n == 0);
    json_decref(add);
}

int main(void)
{
    setup();
    test_nonce_vector();
    test_verified_and_single_use();
    test_refusals();
    vtk_free(srv);
    vtk_free(strict);
    vtb_state_fini(&st);
    vtb_kms_close(kms);
    json_decref(jwk);
    return vt_test_done();
}
