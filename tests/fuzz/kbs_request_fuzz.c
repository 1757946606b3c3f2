/*
 * kbs_request_fuzz.c - fuzz target for the KBS request-body parsers (src/kbs/kbs.c, jose.c):
 * the first input byte selects what the rest is:
 *   0: POST /kbs/v0/auth body           1: POST /kbs/v0/attest body (a live session cookie)
 *   2: a JWK (vtk_jwk_public) and JCS   3: a flattened JWE to decrypt with a fixed key
 *   4: an EAR token to verify           5: a GET path under /kbs/v0/resource/ (Bearer token)
 *   6: snp primary_evidence in the guest-components (sev crate serde) shape (snp_serde.c)
 * One KBS server on a SQLite store in a temporary file is set up on the first call (time
 * fixed, so the session never expires). Built by tests/CMakeLists.txt (it links vtkbs) as a
 * corpus replay test (corpus: tests/fuzz/corpus/kbs_request_fuzz/) and, with VT_FUZZ=ON, for
 * libFuzzer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto/proto.h"
#include "kbs_client/jose.h"
#include "kbs/kbs.h"
#include "kbs/snp_serde.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW ((int64_t)1800000000)

static struct vtk_server *srv;
static struct vtb_kms *kms;
static struct vtb_state st;
static EVP_PKEY *fixed_key;
static char cookie[64];
static char db[] = "/tmp/vt-kbs-fuzz-XXXXXX";

static void quiet(void *arg, const char *line)
{
    (void)arg;
    (void)line;
}

static void teardown(void)
{
    vtk_free(srv);
    vtb_state_fini(&st);
    vtb_kms_close(kms);
    EVP_PKEY_free(fixed_key);
    unlink(db);
}

static void handle(const char *method, const char *path, const char *ck, const char *authz,
                   const uint8_t *body, size_t n, struct vtk_response *resp)
{
    struct vtk_request rq = { .method = method, .path = path, .cookie_session = ck,
                              .authorization = authz, .body = body, .body_len = n,
                              .peer = "fuzz" };
    memset(resp, 0, sizeof(*resp));
    resp->body = (struct vt_buf)VT_BUF_INIT;
    vtk_handle(srv, &rq, NOW, resp);
}

static int setup(void)
{
    int fd = mkstemp(db);
    if (fd < 0)
        return -1;
    close(fd);
    unlink(db);
    uint8_t mk[VTB_MASTER_KEY_LEN];
    memset(mk, 7, sizeof(mk));
    struct vtk_config cfg = { .allow_sim = true, .session_lifetime = 1000000000 };
    if (vtb_kms_open(&vtb_store_sqlite, db, mk, &kms).err || vtb_state_init(&st, kms).err)
        return -1;
    st.sink = quiet;
    if (vtk_new(&cfg, &st, NOW, &srv).err || vtk_p256_generate(&fixed_key).err)
        return -1;
    atexit(teardown);
    static const char auth[] = "{\"version\":\"0.4.0\",\"tee\":\"sample\",\"extra-params\":\"\"}";
    struct vtk_response resp;
    handle("POST", "/kbs/v0/auth", NULL, NULL, (const uint8_t *)auth, sizeof(auth) - 1, &resp);
    const char *c = strstr(resp.set_cookie, "kbs-session-id=");
    if (c) {
        snprintf(cookie, sizeof(cookie), "%s", c + 15);
        cookie[strcspn(cookie, ";")] = 0;
    }
    vti_buf_free(&resp.body);
    return cookie[0] ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!srv && setup() != 0)
        abort();
    if (size < 1)
        return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    struct vtk_response resp;
    char *s = NULL;
    switch (data[0] % 7) {
    case 0:
        handle("POST", "/kbs/v0/auth", NULL, NULL, p, n, &resp);
        vti_buf_free(&resp.body);
        break;
    case 1:
        handle("POST", "/kbs/v0/attest", cookie, NULL, p, n, &resp);
        vti_buf_free(&resp.body);
        break;
    case 2: {
        char why[160];
        json_t *j = vtp_json_parse(p, n, why, sizeof(why));
        EVP_PKEY *k = NULL;
        enum vtk_keyalg alg;
        if (j && !vtk_jwk_public(j, &k, &alg).err)
            EVP_PKEY_free(k);
        struct vt_buf out = VT_BUF_INIT;
        if (j)
            (void)vtk_jcs(j, &out).err;
        vti_buf_free(&out);
        json_decref(j);
        break;
    }
    case 3: {
        struct vt_buf out = VT_BUF_INIT;
        (void)vtk_jwe_decrypt(fixed_key, p, n, &out).err;
        vti_buf_free(&out);
        break;
    }
    case 4: {
        json_t *claims = NULL;
        if (!vtk_ear_verify(&srv->signer, (const char *)p, n, NOW, &claims).err)
            json_decref(claims);
        break;
    }
    case 6: {
        char why[160];
        json_t *j = vtp_json_parse(p, n, why, sizeof(why));
        struct vt_buf rep = VT_BUF_INIT, tab = VT_BUF_INIT;
        if (j && vtk_snp_serde_parse(j, &rep, &tab, why, sizeof(why)) &&
            rep.len != VTK_SNP_REPORT_LEN)
            abort();
        vti_buf_free(&rep);
        vti_buf_free(&tab);
        json_decref(j);
        break;
    }
    default:
        s = malloc(n + 40);
        if (!s)
            return 0;
        memcpy(s, "/kbs/v0/resource/", 17);
        memcpy(s + 17, p, n);
        s[17 + n] = 0;
        handle("GET", s, NULL, "Bearer x.y.z", NULL, 0, &resp);
        vti_buf_free(&resp.body);
        free(s);
        break;
    }
    return 0;
}
