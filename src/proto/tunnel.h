/*
 * tunnel.h - pieces of the attested tunnel (`veritee tunnel ingress|egress`) that do not need
 * sockets: --expect CLAIM=VALUE appraisal of a verified peer report.
 *
 * An expectation names a claim of the verified report (or "tee" / "tcb_status", which the
 * report carries outside its claims) and the value it must have: for a bool claim "true" or
 * "false"; for an integer its decimal value; for a string the exact text; for bytes their hex
 * (either case); for a list of strings one of its members.
 */
#ifndef VT_PROTO_TUNNEL_H
#define VT_PROTO_TUNNEL_H

#include <stdbool.h>
#include <stddef.h>

#include "util/result.h"
#include "veritee/veritee.h"

#define VTP_EXPECT_NAME_MAX 64
#define VTP_EXPECT_VALUE_MAX 256

struct vtp_expect {
    char name[VTP_EXPECT_NAME_MAX + 1];
    char value[VTP_EXPECT_VALUE_MAX + 1];
};

/* "CLAIM=VALUE": CLAIM 1..64 characters of [A-Za-z0-9_.-], VALUE 1..256 printable characters.
 * Errors: VT_ERR_TUNNEL_EXPECT_SYNTAX. out is zeroed on failure. */
VT_RESULT vtp_expect_parse(const char *in, struct vtp_expect *out);

/* Every expectation must hold for rep (a verified report; NULL = an unattested peer).
 * Errors: VT_ERR_TUNNEL_UNATTESTED, VT_ERR_TUNNEL_EXPECT_ABSENT, VT_ERR_TUNNEL_EXPECT_MISMATCH;
 * why (may be NULL) names the claim, what it was and what was wanted. */
VT_RESULT vtp_expect_check(const vt_report *rep, const struct vtp_expect *e, size_t n,
                           char *why, size_t why_len);

#endif
