/* SPDX-License-Identifier: Apache-2.0 */
/*
 * token_memo.h - EAR tokens this broker has verified, memoized for the resource endpoint.
 *
 * A guest sends the same token with every resource request until it expires. Verifying it
 * again (ES256 signature, the JSON payload, the tee-pubkey JWK turned into a key) was ~40 %
 * of the broker's work per token fetch. The memo keeps what one successful verification
 * produced: the payload (read-only, shared), the tee-pubkey and its algorithm, iat and exp.
 *
 * Rules (tests/kbs/kbs_handle_test.c test_token_memo):
 * - only successes enter; the key is the token's exact bytes: a hit needs the same length
 *   and every byte equal, compared in constant time (a token is a bearer credential);
 * - a hit is checked against the time of the request like a verification is (exp > now,
 *   iat <= now + 60); an entry that fails it is dropped and the caller verifies in full, so
 *   the answer (TokenExpired, ...) is the verifier's own;
 * - the policy, the secret and the JWE are done on every request: the memo only stands for
 *   vtk_ear_verify() plus vtk_jwk_public() on the same bytes with the same signer.
 * One memo belongs to one vtk_server (one signing key). Thread-safe.
 */
#ifndef VT_KBS_TOKEN_MEMO_H
#define VT_KBS_TOKEN_MEMO_H

#include <jansson.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kbs_client/jose.h"

#define VTK_TOKEN_MEMO_SLOTS 256
#define VTK_TOKEN_MEMO_MAX_TOKEN ((size_t)16 << 10) /* longer tokens are not memoized */

struct vtk_token_memo;

/* What a verification produced. Out of _get: new references (the caller frees them). */
struct vtk_token_result {
    json_t *claims;  /* the token's payload; never modified once memoized */
    EVP_PKEY *key;   /* the tee-pubkey */
    enum vtk_keyalg alg;
};

struct vtk_token_memo *vtk_token_memo_new(void);
void vtk_token_memo_free(struct vtk_token_memo *m);
/* true: tok was memoized and passes the time checks at now (*out filled). */
bool vtk_token_memo_get(struct vtk_token_memo *m, const uint8_t *tok, size_t n, int64_t now,
                        struct vtk_token_result *out);
/* Remember a verified token (res borrowed; references taken). Its iat and exp are read from
 * res->claims; a token without them, or too long, is not memoized. */
void vtk_token_memo_put(struct vtk_token_memo *m, const uint8_t *tok, size_t n,
                        const struct vtk_token_result *res);

struct vtk_token_memo_stats {
    uint64_t hits, misses, entries;
};
void vtk_token_memo_stats(struct vtk_token_memo *m, struct vtk_token_memo_stats *out);

#endif
