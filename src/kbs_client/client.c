/* SPDX-License-Identifier: Apache-2.0 */
/*
 * client.c - the guest side of the KBS protocol over HTTP/1.1 (http_client.c: libevent).
 *
 * Trust boundary: the broker's replies are untrusted until the JWE authenticates under the
 * CEK wrapped to our ephemeral key (which never leaves this process's memory and is freed at
 * the end of the run). The challenge nonce goes into report_data exactly as the protocol
 * binds it (jose.h vtk_runtime_digest). HTTPS certificates are verified (the system's CAs, or
 * a private CA given as cacert), and so is the host name. The session cookie goes back only to
 * the broker that set it; a token fetched from another broker (fetch_url) goes as Bearer.
 */
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <string.h>

#include "attesters/sim_gpu.h"
#include "core/instance.h"
#include "proto/json.h"
#include "proto/path.h"
#include "kbs_client/client.h"
#include "kbs_client/http_client.h"
#include "kbs_client/jose.h"
#include "util/codec.h"
#include "util/secmem.h"

#define REPLY_MAX ((size_t)8 << 20)

/* The run's HTTP state: the broker, and the broker a token is fetched from (fetch_url). */
struct http {
    struct vtk_http *main, *fetch;
    struct vt_buf reply;
    const struct vtk_client_opts *o;
    char *why; /* the run's reason buffer (>= 160 bytes) */
    size_t why_len;
};

static vt_res request(struct http *h, bool fetch, const char *path, const char *body,
                      const char *bearer, int *status)
{
    struct vtk_http **c = fetch ? &h->fetch : &h->main;
    const char *url = fetch ? h->o->fetch_url : h->o->url;
    if (!*c)
        GUARD(vtk_http_open(url, h->o->cacert, c));
    vt_res r = vtk_http_request(*c, path, body, bearer, REPLY_MAX, status, &h->reply);
    if (r.err == VT_ERR_KBS_HTTP)
        snprintf(h->why, h->why_len, "%s: %s", path, vtk_http_error(*c));
    return r;
}

static void problem_detail(struct http *h, int status, char *why, size_t wl)
{
    char tmp[160];
    json_t *j = vtp_json_parse(h->reply.p ? h->reply.p : (const uint8_t *)"", h->reply.len, tmp,
                               sizeof(tmp));
    const json_t *d = json_object_get(j, "detail");
    snprintf(why, wl, "HTTP %d: %s", status, json_is_string(d) ? json_string_value(d) : "(no detail)");
    json_decref(j);
}

/* The KBS evidence object for the attester's raw evidence ev over report data rd. */
static vt_res evidence_object(const char *tee, const struct vt_buf *ev, const uint8_t rd[64],
                              const char **kbs_tee, json_t **ret)
{
    if (!strcmp(tee, "az-snp-vtpm") || !strcmp(tee, "az-tdx-vtpm") || !strcmp(tee, "tpm")) {
        /* the guest-components evidence object itself (the attester's JSON) */
        char why[64];
        *kbs_tee = tee;
        *ret = vtp_json_parse(ev->p, ev->len, why, sizeof(why));
        ENSURE(json_is_object(*ret), VT_ERR_AZ_EVIDENCE_JSON);
        return vti_ok();
    }
    struct vt_buf b = VT_BUF_INIT, s = VT_BUF_INIT;
    vt_res r = vti_b64_encode(ev->p, ev->len, false, &b);
    if (!r.err)
        r = vti_buf_cstr(&b);
    json_t *e = NULL;
    if (!r.err && !strcmp(tee, "sim")) {
        *kbs_tee = "sample";
        r = vti_b64_encode(rd, 48, false, &s);
        if (!r.err)
            r = vti_buf_cstr(&s);
        if (!r.err)
            e = json_pack("{s:s, s:s, s:s}", "svn", "1", "report_data", (char *)s.p,
                          "veritee_sim_evidence", (char *)b.p);
    } else if (!r.err && (!strcmp(tee, "tdx") || !strcmp(tee, "sgx"))) {
        *kbs_tee = !strcmp(tee, "tdx") ? "tdx" : "sgx";
        e = json_pack("{s:s}", "quote", (char *)b.p);
    } else if (!r.err && !strcmp(tee, "snp")) {
        *kbs_tee = "snp";
        e = json_pack("{s:s, s:n}", "attestation_report", (char *)b.p, "cert_chain");
    } else if (!r.err) {
        r = VT_FAIL(VT_ERR_KBS_BAD_TEE);
    }
    if (!r.err && !e)
        r = VT_FAIL(VT_ERR_NOMEM);
    vti_buf_free(&b);
    vti_buf_free(&s);
    if (!r.err)
        *ret = e;
    return r;
}

static vt_res make_evidence(const struct vtk_client_opts *o, const uint8_t rd[64],
                            const char **kbs_tee, json_t **ret)
{
    GUARD(vti_registry_init(NULL));
    const struct vt_instance_hdr *hd;
    GUARD(vti_instance_find(VT_KIND_ATTESTER, o->attester, &hd));
    const struct vt_attester_ops *a = (const struct vt_attester_ops *)hd;
    /* az-*-vtpm: the TPM quote's nonce is the whole SHA-384 digest (48 bytes), as
     * guest-components quotes it and the KBS compares it (first: it wins over the caller's) */
    struct vt_option opts[1 + VTK_CLIENT_MAX_OPTIONS];
    size_t n = 0;
    ENSURE(o->n_options <= VTK_CLIENT_MAX_OPTIONS, VT_ERR_INVALID_ARG);
    if (!strcmp(a->tee, "az-snp-vtpm") || !strcmp(a->tee, "az-tdx-vtpm"))
        opts[n++] = (struct vt_option){ "az.nonce_len", "48" };
    /* tpm: the digest zero-padded to 64 bytes, as guest-components' TPM attester quotes it */
    if (!strcmp(a->tee, "tpm"))
        opts[n++] = (struct vt_option){ "tpm.nonce_len", "64" };
    for (size_t i = 0; i < o->n_options; i++)
        opts[n++] = o->options[i];
    struct vti_attest_ctx ac = { .sim_dir = o->sim_dir, .options = opts, .n_options = n };
    struct vt_buf ev = VT_BUF_INIT;
    /* no endorsements: the KBS protocol carries evidence only (the broker has collateral) */
    vt_res r = a->collect(&ac, rd, &ev, NULL);
    if (!r.err)
        r = evidence_object(a->tee, &ev, rd, kbs_tee, ret);
    vti_buf_free(&ev);
    return r;
}

static const char *attester_kbs_tee(const char *attester)
{
    if (vti_registry_init(NULL).err)
        return NULL;
    const struct vt_instance_hdr *hd;
    if (vti_instance_find(VT_KIND_ATTESTER, attester, &hd).err)
        return NULL;
    const char *t = ((const struct vt_attester_ops *)hd)->tee;
    return !strcmp(t, "sim") ? "sample" : t;
}

/* additional_evidence: "" or, with o->sim_gpus, {"nvidia": <sim GPUs' device evidence>} over
 * the device nonce SHA-384(JCS({"nonce", "tee-pubkey"}))[0..32) (as guest-components). */
static vt_res additional(const struct vtk_client_opts *o, const json_t *nonce, const json_t *jwk,
                         char **out)
{
    if (!o->sim_gpus) {
        *out = strdup("");
        return *out ? vti_ok() : VT_FAIL(VT_ERR_NOMEM);
    }
    const char *dir = o->sim_dir ? o->sim_dir : getenv("VERITEE_SIM_DIR");
    ENSURE(dir, VT_ERR_SIM_NO_DIR);
    json_t *rt = json_pack("{s:O, s:O}", "nonce", nonce, "tee-pubkey", jwk);
    struct vt_buf c = VT_BUF_INIT, ev = VT_BUF_INIT;
    uint8_t h[48];
    unsigned int hl = 0;
    vt_res r = rt ? vtk_jcs(rt, &c) : VT_FAIL(VT_ERR_NOMEM);
    if (!r.err && EVP_Digest(c.p, c.len, h, &hl, EVP_sha384(), NULL) != 1)
        r = VT_FAIL(VT_ERR_CRYPTO);
    r = r.err ? r : vti_sim_gpu_evidence(dir, h, o->sim_gpus, &ev);
    json_t *dev = r.err ? NULL : json_loadb((const char *)ev.p, ev.len, 0, NULL);
    json_t *add = dev ? json_pack("{s:O}", "nvidia", dev) : NULL;
    *out = add ? json_dumps(add, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    if (!r.err && !*out)
        r = VT_FAIL(VT_ERR_NOMEM);
    json_decref(rt);
    json_decref(dev);
    json_decref(add);
    vti_buf_free(&c);
    vti_buf_free_nowipe(&ev);
    return r;
}

vt_res vtk_client_get_resource(const struct vtk_client_opts *o, const char *path,
                               struct vt_buf *out, struct vt_buf *token, int *status,
                               char *why, size_t why_len)
{
    *status = 0;
    snprintf(why, why_len, "ok");
    struct http h = { .reply = VT_BUF_INIT, .o = o, .why = why, .why_len = why_len };
    EVP_PKEY *key = NULL;
    json_t *jwk = NULL, *ch = NULL, *att = NULL, *ev = NULL, *tj = NULL;
    char *body = NULL, tmp[160], *adds = NULL;
    struct vt_buf tok = VT_BUF_INIT;
    vt_res r = vti_ok();
    /* the TEE key: ephemeral, in memory only */
    if (o->rsa) {
        key = EVP_RSA_gen(2048);
        ENSURE_GOTO(key, VT_ERR_CRYPTO, r, done);
        GUARD_GOTO(vtk_jwk_from_pkey(key, "RSA-OAEP-256", &jwk), r, done);
    } else {
        GUARD_GOTO(vtk_p256_generate(&key), r, done);
        GUARD_GOTO(vtk_jwk_from_pkey(key, "ECDH-ES+A256KW", &jwk), r, done);
    }
    const char *ktee = attester_kbs_tee(o->attester);
    if (!ktee) {
        snprintf(why, why_len, "no attester \"%s\"", o->attester);
        r = VT_FAIL(VT_ERR_KBS_BAD_TEE);
        goto done;
    }
    /* 1. auth */
    json_t *areq = json_pack("{s:s, s:s, s:{s:[s]}}", "version", VTK_PROTOCOL_VERSION, "tee",
                             ktee, "extra-params", "supported-hash-algorithms", "sha384");
    body = areq ? json_dumps(areq, JSON_COMPACT) : NULL;
    json_decref(areq);
    ENSURE_GOTO(body, VT_ERR_NOMEM, r, done);
    GUARD_GOTO(request(&h, false, "/kbs/v0/auth", body, NULL, status), r, done);
    if (*status != 200) {
        problem_detail(&h, *status, why, why_len);
        r = VT_FAIL(VT_ERR_KBS_REFUSED);
        goto done;
    }
    ch = vtp_json_parse(h.reply.p, h.reply.len, tmp, sizeof(tmp));
    const json_t *nonce = json_object_get(ch, "nonce");
    ENSURE_GOTO(json_is_string(nonce), VT_ERR_BROKER_BAD_REPLY, r, done);
    /* 2. evidence over the runtime-data digest, then attest */
    uint8_t rd[64];
    GUARD_GOTO(additional(o, nonce, jwk, &adds), r, done);
    GUARD_GOTO(vtk_runtime_digest(adds, json_string_value(nonce), jwk, rd), r, done);
    const char *etee = NULL;
    r = make_evidence(o, rd, &etee, &ev);
    if (r.err) {
        snprintf(why, why_len, "attester %s: %s", o->attester, vt_strerror(r.err));
        goto done;
    }
    att = json_pack("{s:{s:O, s:O}, s:{s:O, s:s}}", "runtime-data", "nonce", nonce,
                    "tee-pubkey", jwk, "tee-evidence", "primary_evidence", ev,
                    "additional_evidence", adds);
    free(body);
    body = att ? json_dumps(att, JSON_COMPACT) : NULL;
    ENSURE_GOTO(body, VT_ERR_NOMEM, r, done);
    GUARD_GOTO(request(&h, false, "/kbs/v0/attest", body, NULL, status), r, done);
    if (*status != 200) {
        problem_detail(&h, *status, why, why_len);
        r = VT_FAIL(VT_ERR_KBS_REFUSED);
        goto done;
    }
    tj = vtp_json_parse(h.reply.p, h.reply.len, tmp, sizeof(tmp));
    const json_t *t = json_object_get(tj, "token");
    ENSURE_GOTO(json_is_string(t), VT_ERR_BROKER_BAD_REPLY, r, done);
    GUARD_GOTO(vti_buf_append(&tok, json_string_value(t), json_string_length(t)), r, done);
    GUARD_GOTO(vti_buf_cstr(&tok), r, done);
    if (token) {
        GUARD_GOTO(vti_buf_append(token, tok.p, tok.len), r, done);
        GUARD_GOTO(vti_buf_cstr(token), r, done);
    }
    /* 3. resource (cookie at this broker, or Bearer at another) */
    char rp[VTP_MAX_PATH + 32];
    snprintf(rp, sizeof(rp), "/kbs/v0/resource/%s", path);
    if (o->fetch_url)
        GUARD_GOTO(request(&h, true, rp, NULL, (const char *)tok.p, status), r, done);
    else
        GUARD_GOTO(request(&h, false, rp, NULL, NULL, status), r, done);
    if (*status != 200) {
        problem_detail(&h, *status, why, why_len);
        r = VT_FAIL(VT_ERR_KBS_REFUSED);
        goto done;
    }
    r = vtk_jwe_decrypt(key, h.reply.p, h.reply.len, out);
    if (r.err)
        snprintf(why, why_len, "the resource JWE did not decrypt");
done:
    if (r.err && !strcmp(why, "ok"))
        snprintf(why, why_len, "%s", vt_strerror(r.err));
    vtk_http_close(h.main);
    vtk_http_close(h.fetch);
    vti_buf_free(&h.reply);
    vti_buf_free(&tok);
    EVP_PKEY_free(key);
    json_decref(jwk);
    json_decref(ch);
    json_decref(att);
    json_decref(ev);
    json_decref(tj);
    free(body);
    free(adds);
    return r;
}
