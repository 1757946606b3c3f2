/* SPDX-License-Identifier: Apache-2.0 */
/*
 * veritee/errors.h - error codes of libveritee.
 *
 * Every failure has a precise code (VT_ERR_*) that belongs to one category (VT_CAT_*).
 * Tests assert the precise code; a daemon that answers an untrusted peer reports only the
 * category. The codes are stable numbers: a module owns a range and never renumbers.
 *
 * The list itself lives in errors/<module>.def as X-macro rows
 *     VT_E(NAME, CATEGORY, NUMBER, "message")
 * so that each module adds its codes in its own file.
 */
#ifndef VERITEE_ERRORS_H
#define VERITEE_ERRORS_H

#ifdef __cplusplus
extern "C" {
#endif

/* Categories. */
typedef enum vt_category {
    VT_CAT_NONE = 0,
    VT_CAT_USAGE = 1,    /* the caller passed something invalid */
    VT_CAT_IO = 2,       /* a file, device or socket failed */
    VT_CAT_PARSE = 3,    /* untrusted bytes are malformed (PROTO) */
    VT_CAT_CRYPTO = 4,   /* a crypto primitive failed or a signature is wrong */
    VT_CAT_TRUST = 5,    /* chain, revocation, binding or collateral check failed */
    VT_CAT_TCB = 6,      /* platform TCB not acceptable or not matched */
    VT_CAT_POLICY = 7,   /* appraisal policy refused */
    VT_CAT_TLS = 8,      /* TLS protocol failure */
    VT_CAT_INTERNAL = 9, /* out of memory, bug */
} vt_category;

/*
 * Number ranges: core/util 1-199, cert 200-299, tls 300-399, sim 400-499, wolf 500-599,
 * crypto 600-699, attesters 700-799, intel 1000-1999, snp 2000-2999, broker 3000-3999,
 * kbs 4000-4999, proto 5000-5099, tpm/hcl/azure 6000-6299.
 */
typedef enum vt_err {
    VT_OK = 0,
#define VT_E(name, cat, num, msg) VT_ERR_##name = (num),
#include "veritee/errors/core.def"
#include "veritee/errors/cert.def"
#include "veritee/errors/tls.def"
#include "veritee/errors/sim.def"
#include "veritee/errors/crypto.def"
#include "veritee/errors/attester.def"
#include "veritee/errors/intel.def"
#include "veritee/errors/snp.def"
#include "veritee/errors/broker.def"
#include "veritee/errors/proto.def"
#include "veritee/errors/tpm.def"
#include "veritee/errors/nvidia.def"
#undef VT_E
    VT_ERR__END
} vt_err;

/* Message for a code ("unknown error" for codes not in the table). Never NULL. */
const char *vt_strerror(int code);
/* Symbolic name of a code, e.g. "VT_ERR_TRUNCATED". Never NULL. */
const char *vt_errname(int code);
/* Category of a code. */
vt_category vt_err_category(int code);
/* Name of a category, e.g. "parse". Never NULL. */
const char *vt_category_name(vt_category cat);

#ifdef __cplusplus
}
#endif
#endif
