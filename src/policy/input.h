/* SPDX-License-Identifier: Apache-2.0 */
/*
 * input.h - the one translation of a verified report into appraisal input (struct vtb_input),
 * shared by both front ends (agents over attested TLS, KBS attestation), so that one piece
 * of evidence is always appraised the same way.
 *
 * Claims become strings: bytes as lower-case hex, booleans "true"/"false", integers in
 * decimal, strings as they are; string lists are not appraisable and are left out. The tee
 * is the report's TEE type and the TCB status the report's (NULL when the TEE has none).
 */
#ifndef VT_PROTO_POLICY_INPUT_H
#define VT_PROTO_POLICY_INPUT_H

#include "policy/policy.h"
#include "veritee/veritee.h"

/* The input and the storage it points into (claim names point into the report: keep the
 * report alive as long as the input). */
struct vtb_report_input {
    struct vtb_input in;
    struct vtb_claim_str *claims;
    char **vals;
};

/* Fill out from a verified report; VT_ERR_NOMEM when a value cannot be allocated. */
VT_RESULT vtb_input_from_report(const vt_report *rep, struct vtb_report_input *out);
void vtb_input_free(struct vtb_report_input *ri);

#endif
