/* SPDX-License-Identifier: Apache-2.0 */
/*
 * jose.h - the JOSE pieces the KBS protocol needs: RFC 8785 canonical JSON (JCS), JWK
 * (EC P-256, RSA), flattened-JSON JWE (ECDH-ES+A256KW and RSA-OAEP-256 with A256GCM,
 * RFC 7516/7518) and compact JWS ES256 (RFC 7515), all on OpenSSL 3 primitives.
 *
 * Part of the client library vtkbs_client (src/kbs/CMakeLists.txt): OpenSSL, jansson and
 * src/proto only (no broker or server code), so veritee-agent links it.
 *
 * Why not cjose (Debian libcjose 0.6.2): it has neither ECDH-ES+A256KW nor RSA-OAEP-256,
 * the two key-management algorithms the KBS protocol uses; the tests use cjose (JWS/JWK)
 * and python3-cryptography (JWE) as the independent implementations.
 */
#ifndef VT_KBS_CLIENT_JOSE_H
#define VT_KBS_CLIENT_JOSE_H

#include <jansson.h>
#include <openssl/evp.h>

#include "util/buf.h"
#include "util/result.h"

/* RFC 8785: canonical serialisation of v (appended, NUL-terminated). Refuses non-integral
 * numbers and integers beyond +-2^53 (VT_ERR_KBS_BAD_JSON) rather than risk a mismatch. */
VT_RESULT vtk_jcs(const json_t *v, struct vt_buf *out);

/* base64url (no padding) of p as a NUL-terminated string appended to out. */
VT_RESULT vtk_b64url(const uint8_t *p, size_t n, struct vt_buf *out);
/* Decode a base64url JSON string member (exact length when want != 0). */
VT_RESULT vtk_b64url_member(const json_t *obj, const char *name, size_t want,
                            struct vt_buf *out);

enum vtk_keyalg { VTK_ALG_ECDH_ES_A256KW = 1, VTK_ALG_RSA_OAEP_256 = 2 };

/* A TEE public key from its JWK (the protocol's tee-pubkey). EC keys must be P-256 with
 * alg ECDH-ES+A256KW; RSA keys 2048..8192 bits with alg RSA-OAEP-256. */
VT_RESULT vtk_jwk_public(const json_t *jwk, EVP_PKEY **ret, enum vtk_keyalg *alg);
/* The public JWK of key (EC P-256 or RSA); alg may be NULL (member omitted). */
VT_RESULT vtk_jwk_from_pkey(const EVP_PKEY *key, const char *alg, json_t **ret);
/* RFC 7638 thumbprint (base64url SHA-256) of an EC P-256 public key. out: >= 44 bytes. */
VT_RESULT vtk_jwk_thumbprint(const EVP_PKEY *key, char *out, size_t out_len);

/* Encrypt pt to key as a flattened-JSON JWE (compact JSON text appended to out). The
 * protected header is exactly {"alg":..,"enc":"A256GCM"[,"epk":{"crv","kty","x","y"}]}.
 * key: from vtk_jwk_public() or generated (an EC point is checked there, not again here). */
VT_RESULT vtk_jwe_encrypt(const EVP_PKEY *key, enum vtk_keyalg alg, const uint8_t *pt,
                          size_t n, struct vt_buf *out);
/* Decrypt a flattened-JSON JWE with the private key (plaintext into out, a wiping buffer). */
VT_RESULT vtk_jwe_decrypt(const EVP_PKEY *priv, const uint8_t *jwe, size_t n,
                          struct vt_buf *out);

/* Compact JWS ES256 over header and payload (JSON objects, serialised compactly). */
VT_RESULT vtk_jws_sign(EVP_PKEY *key, const json_t *header, const json_t *payload,
                       struct vt_buf *out);
/* Split and verify a compact JWS ES256 with key; the header's alg must be ES256. On success
 * the decoded header and payload (new references). */
VT_RESULT vtk_jws_verify(EVP_PKEY *key, const char *jws, size_t n, json_t **ret_header,
                         json_t **ret_payload);
/* Decode header and payload WITHOUT verifying (to find the kid). */
VT_RESULT vtk_jws_peek(const char *jws, size_t n, json_t **ret_header, json_t **ret_payload);

/* Fresh EC P-256 key pair. */
VT_RESULT vtk_p256_generate(EVP_PKEY **ret);

/* The KBS runtime-data binding, as guest-components derives it: SHA-384 over
 * JCS({"additional-evidence":A,"nonce":N,"tee-pubkey":K}), zero-padded to 64 bytes. */
VT_RESULT vtk_runtime_digest(const char *additional, const char *nonce, const json_t *jwk,
                             uint8_t out[64]);

#endif
