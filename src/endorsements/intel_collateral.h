/* SPDX-License-Identifier: Apache-2.0 */
/*
 * intel_collateral.h - Intel DCAP collateral: loading (bundle JSON, PCS files directory,
 * RA-TLS endorsements CBOR) and parsing of the signed TCB Info / QE Identity JSON.
 *
 * Loading only gathers untrusted bytes: the signed JSON bodies are kept as the exact bytes
 * that were signed (never re-serialized), CRLs as DER, signing chains as PEM text. The
 * verifier (src/verifiers/intel.c) checks signatures, chains and times before it calls the
 * parsers below on the signed bytes.
 */
#ifndef VT_ENDORSEMENTS_INTEL_COLLATERAL_H
#define VT_ENDORSEMENTS_INTEL_COLLATERAL_H

#include "util/buf.h"

#define VT_INTEL_MAX_CRLS 8
#define VT_INTEL_MAX_PIECE_LEN ((size_t)1 << 20)
#define VT_INTEL_MAX_DIR_FILES 64

struct vt_intel_signed_json {
    bool present;
    struct vt_buf body;   /* exact signed bytes: the inner object from '{' to its '}' */
    uint8_t sig[64];      /* raw r || s */
    /* identity read from the (not yet verified) body, only to select among several:
     * "id" ("SGX"/"TDX"; "QE"/"TD_QE"/"QVE") and, for TCB Info, "fmspc" */
    char id[16];
    bool has_fmspc;
    uint8_t fmspc[6];
};

#define VT_INTEL_MAX_ALT 7

struct vt_intel_collateral {
    struct vt_intel_signed_json tcb_info, qe_identity;
    /* Further TCB Infos / QE Identities with a different identity (a directory holding the
     * collateral of several platforms or of SGX and TDX); vti_intel_collateral_pick_* choose.
     * Two different pieces with the SAME identity are VT_ERR_INTEL_COLLATERAL_DUP. */
    size_t n_more_tcb, n_more_qe;
    struct vt_intel_signed_json more_tcb[VT_INTEL_MAX_ALT], more_qe[VT_INTEL_MAX_ALT];
    struct vt_buf tcb_chain;  /* PEM: TCB signing cert (+ root) for TCB Info */
    struct vt_buf qe_chain;   /* PEM: same for the QE Identity (often identical) */
    size_t n_crls;
    struct vt_buf crls[VT_INTEL_MAX_CRLS]; /* DER; root CA CRL and PCK CRL(s), matched by issuer */
    char source[64];          /* "bundle", "pcs-files", "ratls-endorsements" */
    /* vti_intel_collateral_digest of the pieces above, set only by the cached loader (whose
     * copies are not changed afterwards); adding a piece clears it */
    bool has_digest;
    uint8_t digest[32];
};

void vti_intel_collateral_free(struct vt_intel_collateral *c);
/* A SHA-256 over every piece (for caching). */
VT_RESULT vti_intel_collateral_digest(const struct vt_intel_collateral *c, uint8_t out[32]);

/* The TCB Info for a quote: id "TDX" iff tdx (absent or "SGX" otherwise) and, when fmspc is
 * given, that FMSPC. Falls back to the first one loaded when none matches (the verifier then
 * reports the mismatch). NULL-safe: returns &c->tcb_info. */
const struct vt_intel_signed_json *vti_intel_collateral_pick_tcb(const struct vt_intel_collateral *c,
                                                                 bool tdx, const uint8_t *fmspc);
/* The QE Identity for a quote: id "TD_QE" iff tdx, else "QE"; same fallback. */
const struct vt_intel_signed_json *vti_intel_collateral_pick_qe(const struct vt_intel_collateral *c,
                                                                bool tdx);

/* sgx_ql_qve_collateral_t as JSON (dcap-qvl layout; see docs/intel.md). */
VT_RESULT vti_intel_collateral_from_bundle(const uint8_t *json, size_t len,
                                           struct vt_intel_collateral *c);
/* Add one piece recognised by content (PCS TCB Info / QE Identity body, CRL in DER/PEM/hex,
 * PEM signing chain, or a whole bundle). replace: a piece of the same kind replaces the old
 * one instead of being an error (VT_ERR_INTEL_COLLATERAL_DUP when different). */
VT_RESULT vti_intel_collateral_add_piece(struct vt_intel_collateral *c, const uint8_t *p,
                                         size_t len, bool replace, bool *recognised);
/* A file (bundle or single piece) or a directory of pieces. */
VT_RESULT vti_intel_collateral_load_path(const char *path, struct vt_intel_collateral *c);
/* vti_intel_collateral_load_path, through a bounded per-path cache of successful loads that
 * is used only while the path and every entry of it (name, dev, ino, size, mode, mtime and
 * ctime) are unchanged, and keeps only loads whose files were older than 2 s when read
 * (intel_collateral_cache.c). *c: a deep copy (free it). *from_cache: whether it was a hit.
 * The bytes are as untrusted as a fresh load's: the verifier checks them the same way. */
VT_RESULT vti_intel_collateral_load_path_cached(const char *path, struct vt_intel_collateral *c,
                                                bool *from_cache);
/* Drop every cached load (the counters are kept); hits and misses since the start. */
void vti_intel_collateral_cache_flush(void);
void vti_intel_collateral_cache_stats(uint64_t *hits, uint64_t *misses);
/* A deep copy of src into *dst (dst is overwritten; free it even on failure). */
VT_RESULT vti_intel_collateral_copy(const struct vt_intel_collateral *src,
                                    struct vt_intel_collateral *dst);
/* RA-TLS endorsements: tag(60000)([version, tcb_info, tcb_chain, pck_crl, root_crl,
 * pck_crl_chain, qe_identity, qe_chain, ?creation]) (notes/rats-tls.md section 2.5). */
VT_RESULT vti_intel_collateral_from_endorsements(const uint8_t *p, size_t len,
                                                 struct vt_intel_collateral *c);
/* Write the RA-TLS endorsements CBOR for c (used by attesters). */
VT_RESULT vti_intel_collateral_to_endorsements(const struct vt_intel_collateral *c,
                                               struct vt_buf *out);

/* ---- signed JSON contents (call only on verified bytes) ---------------------------- */

#define VT_INTEL_MAX_LEVELS 64
#define VT_INTEL_MAX_ADVISORIES 48
#define VT_INTEL_MAX_MODULES 8

enum vt_intel_status {
    VT_ISTAT_NONE = 0,
    VT_ISTAT_UP_TO_DATE,
    VT_ISTAT_SW_HARDENING_NEEDED,
    VT_ISTAT_CONFIGURATION_NEEDED,
    VT_ISTAT_CONFIGURATION_AND_SW_HARDENING_NEEDED,
    VT_ISTAT_OUT_OF_DATE,
    VT_ISTAT_OUT_OF_DATE_CONFIGURATION_NEEDED,
    VT_ISTAT_REVOKED,
    VT_ISTAT_TD_RELAUNCH_ADVISED,
    VT_ISTAT_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED,
};
const char *vti_intel_status_name(enum vt_intel_status s);
VT_RESULT vti_intel_status_parse(const char *s, enum vt_intel_status *out);

struct vt_intel_level {
    uint8_t sgx[16];
    uint16_t pcesvn;
    uint8_t tdx[16];
    bool has_tdx;
    uint16_t isvsvn;         /* QE identity / module identity levels */
    enum vt_intel_status status;
    char date[32];
    size_t n_adv;
    char adv[VT_INTEL_MAX_ADVISORIES][32];
};

struct vt_intel_module_id {
    char id[16];
    uint8_t mrsigner[48];
    uint64_t attributes, attributes_mask;
    size_t n_levels;
    struct vt_intel_level levels[8];
};

struct vt_intel_tcb_info {
    int version;
    bool is_tdx;              /* id "TDX" */
    int64_t issue_date, next_update;
    uint8_t fmspc[6];
    uint8_t pceid[2];
    int64_t eval_num;
    bool has_module;
    struct vt_intel_module_id module; /* "tdxModule" (no levels) */
    size_t n_modules;
    struct vt_intel_module_id modules[VT_INTEL_MAX_MODULES];
    size_t n_levels;
    struct vt_intel_level levels[VT_INTEL_MAX_LEVELS];
};

struct vt_intel_qe_identity {
    char id[8];               /* "QE", "QVE", "TD_QE" */
    int version;
    int64_t issue_date, next_update;
    uint32_t miscselect, miscselect_mask;
    uint8_t attributes[16], attributes_mask[16];
    uint8_t mrsigner[32];
    uint16_t isvprodid;
    size_t n_levels;
    struct vt_intel_level levels[VT_INTEL_MAX_LEVELS];
};

VT_RESULT vti_intel_tcb_info_parse(const uint8_t *body, size_t len, struct vt_intel_tcb_info *t);
VT_RESULT vti_intel_qe_identity_parse(const uint8_t *body, size_t len,
                                      struct vt_intel_qe_identity *q);

/* Locate the value of a top-level key of a JSON object as a raw byte span (the exact
 * signed bytes). Bounded and string-aware; VT_ERR_NOT_FOUND if absent. */
VT_RESULT vti_json_raw_member(const uint8_t *json, size_t len, const char *key,
                              const uint8_t **vp, size_t *vlen);

#endif
