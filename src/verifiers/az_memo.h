/* SPDX-License-Identifier: Apache-2.0 */
/*
 * az_memo.h - content-keyed memos of the az-snp-vtpm / az-tdx-vtpm verifiers' parses: the
 * evidence JSON (az_evidence.c) and the HCL variable data JSON (evidence/hcl.c). A verifier
 * that meets the exact same bytes again (an attested-TLS peer's certificate evidence, the
 * accepts() calls of input detection before verify(), a vTPM whose variable data is stable)
 * takes the parsed result instead of running jansson and base64 / hex decoding again.
 *
 * Rules (as the crypto memos of src/crypto/openssl.c): the key is the full input (a copy of
 * every byte, compared exactly, no hash); only successful parses are kept; a parse does not
 * depend on time, so an entry has no validity window and is only evicted (least recently used,
 * bounded slots); every check of the verifier runs on the result as before (bindings,
 * signatures, nonce, collateral). A different input, a byte flipped anywhere, is a miss and is
 * parsed (and refused) exactly as without the memo (tests/unit/az_memo_test.c).
 * Thread-safe: one mutex; callers get their own copies (the var data's jansson tree is shared
 * read-only, with jansson's atomic reference count).
 */
#ifndef VT_VERIFIERS_AZ_MEMO_H
#define VT_VERIFIERS_AZ_MEMO_H

#include "evidence/hcl.h"
#include "verifiers/az_evidence.h"

/* Inputs larger than these are parsed every time (never kept). */
#define VT_AZ_MEMO_MAX_EVIDENCE (64u * 1024u)

/* vti_az_evidence_parse, from the memo when these exact bytes parsed before. */
VT_RESULT vti_az_evidence_parse_memo(const uint8_t *p, size_t len, struct vti_az_ev *ev);
/* 1 (SNP) or 2 (TDX) when these exact bytes are in the memo, else 0. */
int vti_az_memo_kind(const uint8_t *p, size_t len);
/* Keep a successful parse of p (az_evidence.c, after its own parse). */
void vti_az_memo_put_evidence(const uint8_t *p, size_t len, const struct vti_az_ev *ev);

/* vti_hcl_var_data_parse, from the memo when these exact bytes parsed before. */
VT_RESULT vti_hcl_var_data_parse_memo(const uint8_t *p, size_t len, struct vt_hcl_var_data *out);

/* For tests and benchmarks. */
struct vti_az_memo_stats {
    uint64_t ev_hits, ev_misses, var_hits, var_misses;
};
void vti_az_memo_flush(void);
void vti_az_memo_stats(struct vti_az_memo_stats *out);

#endif
