/* SPDX-License-Identifier: Apache-2.0 */
/*
 * policy.h - appraisal: verified claims -> reference values -> policy -> release decision.
 * Shared by the broker, the KBS front end and `veritee tunnel --policy` (src/policy, its own
 * layer above src/proto, so that the tool may use it without the broker; ARCHITECTURE.md).
 *
 * The policy is a declarative JSON document (docs/broker.md, examples/policy.json):
 *   {"version": 1,
 *    "rules": [{"name": "app",
 *               "resources": ["default/key/<glob>"],    path globs ('*' within a segment)
 *               "tee": ["sim", "tdx"],                    optional: allowed TEE types
 *               "tcb_status": ["UpToDate"],               optional: accepted TCB statuses
 *               "reference": ["measurement"],             claims that must equal an
 *                                                         unexpired reference value
 *               "claims": {"svn": [3, 4]},              literal claim conditions
 *               "debug": true,                            optional: release to debug TEEs
 *               "gpus": {"count": 2,                      optional: device evidence (GPUs)
 *                        "claims": {"rim": "match"}}}]}   required of EVERY device
 * A request is allowed when some rule whose "resources" match the path has all its
 * conditions met; otherwise it is denied with the reason of the first matching rule (or "no
 * rule grants" when none matches). The default (no policy, empty rules) denies everything.
 * TCB status: without "tcb_status" a rule accepts "UpToDate" or a TEE without TCB status;
 * with it, exactly the listed values ("none" names the absence of a status).
 * Debug: evidence whose "debug" claim is not "false" (a debug TD / SNP guest / SGX enclave:
 * the host can read its memory) is refused (VT_ERR_BROKER_DEBUG_REFUSED) unless the rule
 * says "debug": true (or, without a "debug" key, its "claims" condition on debug accepts
 * true). An absent claim is refused for sgx/tdx/snp (their verifiers always report it) and
 * counts as not debug for TEEs without a debug notion (sim, null).
 *
 * GPUs: a rule with "gpus" requires verified device evidence (the KBS additional_evidence,
 * src/kbs/kbs_devices.c): at least "count" devices (default 1: VT_ERR_BROKER_GPU_MISSING
 * otherwise), every device verified (VT_ERR_BROKER_GPU_FAILED otherwise, even beyond count),
 * and every device's claims ("arch", "rim", "driver_version", ... without the "gpu.<i>."
 * prefix) meeting "claims" like a rule's own claims. Rules without "gpus" ignore devices.
 *
 * A snapshot (policy + reference values) is immutable and reference-counted: admin changes
 * build a new snapshot and swap one pointer; requests in flight keep the old one. Building a
 * snapshot validates the policy once and compiles it into typed rules (path patterns, TEE
 * and TCB lists, claim constraints, reference-value conditions resolved to the snapshot's
 * reference values); vtb_appraise walks those rules, never the JSON.
 */
#ifndef VT_PROTO_POLICY_H
#define VT_PROTO_POLICY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/result.h"

#define VTB_MAX_RULES 256
#define VTB_MAX_REFVALS 4096
#define VTB_MAC_LEN 32 /* HMAC-SHA256 tag of a policy / reference-value row (broker/kms.c) */

/* One reference value (the broker stores them: broker/store.h). */
struct vtb_refval {
    int64_t id;
    const char *name;   /* claim name */
    const char *value;  /* allowed value (hex for byte claims, lower case) */
    const char *source; /* provenance, free text */
    int64_t expires;    /* Unix seconds; 0 = never */
    int64_t added;
    uint8_t mac[VTB_MAC_LEN]; /* authentication tag over every field above but id (kms.c) */
    bool has_mac;             /* false: a row written before tags existed (refused) */
};

/* The appraisal input: the verified report reduced to strings. */
struct vtb_claim_str {
    const char *name;
    const char *value; /* bytes: lower-case hex; bool: true/false; int: decimal */
};
/* One attached device (a GPU): verified or not, with its claims (names relative to the
 * device: "arch", "rim"). */
struct vtb_device {
    bool verified;
    const char *reason; /* why it is not verified (may be NULL) */
    const struct vtb_claim_str *claims;
    size_t n_claims;
};
struct vtb_input {
    const char *tee;
    const char *tcb_status; /* NULL when the TEE has none */
    const struct vtb_claim_str *claims;
    size_t n_claims;
    const struct vtb_device *devices; /* the GPUs of the KBS additional evidence */
    size_t n_devices;
};

struct vtb_snapshot;

/* Validate a policy document; why (>= 160 bytes) says what is wrong. */
VT_RESULT vtb_policy_check(const char *doc, char *why, size_t why_len);
/* Build a snapshot from a policy document (NULL = deny-all) and reference values. */
VT_RESULT vtb_snapshot_new(const char *policy_doc, const struct vtb_refval *rv, size_t n_rv,
                           struct vtb_snapshot **ret);
struct vtb_snapshot *vtb_snapshot_ref(struct vtb_snapshot *s);
void vtb_snapshot_unref(struct vtb_snapshot *s);

/* Decide whether `in` may receive `path` at time now. VT_OK = allowed (rule_name gets the
 * granting rule, at least 64 bytes); otherwise a VT_ERR_BROKER_* policy code and a reason
 * in why, e.g. "denied by policy: measurement not in reference values". */
VT_RESULT vtb_appraise(const struct vtb_snapshot *s, const struct vtb_input *in,
                       const char *path, int64_t now, char *rule_name, char *why,
                       size_t why_len);

/* The same; rule_name (at least 64 bytes) names the granting rule on VT_OK, and on a denial
 * the rule whose reason why gives (the first whose resources matched; "" when none did). */
VT_RESULT vtb_appraise_rule(const struct vtb_snapshot *s, const struct vtb_input *in,
                            const char *path, int64_t now, char *rule_name, char *why,
                            size_t why_len);

/* The reference values named `name` in s: *has when any is provisioned; true when an
 * unexpired one equals value exactly (the KBS token's AR4SI "executables" claim). */
bool vtb_snapshot_refval_match(const struct vtb_snapshot *s, const char *name,
                               const char *value, int64_t now, bool *has);

/* The unexpired reference values named `name`, comma-joined into out (NUL-terminated; values
 * that do not fit are left out); returns how many were joined. The KBS passes those of
 * tpm.ak_sha256 to the tpm verifier as its pinned attestation keys. */
size_t vtb_snapshot_refval_join(const struct vtb_snapshot *s, const char *name, int64_t now,
                                char *out, size_t out_len);

/* Normalise a reference value for storage: hex strings to lower case; checks the claim
 * name ([A-Za-z0-9_.-], 1..64) and value (1..1024 printable). */
VT_RESULT vtb_refval_normalize(const char *name, const char *value, char *out, size_t out_len);

#endif
