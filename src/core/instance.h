/* SPDX-License-Identifier: Apache-2.0 */
/*
 * instance.h - the four kinds of pluggable instances (the RATS-TLS model) and their registry.
 *
 * Every ops table starts with a struct vt_instance_hdr. Built-in instances are listed in
 * builtin.c; plug-ins are shared objects in a plug-in directory that export
 *     int vt_plugin_init(int abi, void (*reg)(const struct vt_instance_hdr *));
 * Selection: by name when named; otherwise the highest priority whose detect() says yes.
 * Instances with VT_INST_EXPLICIT (sim, null) are never chosen automatically.
 *
 * Plug-ins (instance.c): the directory and each .so must be writable by nobody but root or
 * the current user (else VT_ERR_PLUGIN_UNSAFE); a plug-in may not reuse the name of a
 * built-in (VT_ERR_PLUGIN_NAME, the whole plug-in is refused); automatic selection prefers
 * any built-in that fits over any plug-in (plug-ins are a fallback, or used when named).
 *
 * Options (vt_option NAME=VALUE): every instance lists the names it reads in hdr.options.
 * Rule (vti_options_check): a name that no registered instance declares (and that is not a
 * library option, "verify.at") is refused with VT_ERR_UNKNOWN_OPTION; a name declared by an
 * instance that is not used in this run (an intel.* option while verifying SNP evidence, a
 * tdx.* option when the detected TEE is SNP) is accepted and ignored, so one option set can
 * serve several TEEs.
 *
 * The crypto and TLS ops tables are defined in src/crypto/crypto.h and src/tls/tls.h; the
 * attester and verifier ops here, since core dispatches to them.
 */
#ifndef VT_CORE_INSTANCE_H
#define VT_CORE_INSTANCE_H

#include "util/buf.h"
#include "veritee/veritee.h"

/* 2: hdr.options added (a plug-in built for 1 is refused: its ops tables are laid out differently).
 * 3: vt_crypto_ops.cert_parse takes flags (VT_CERT_PARSE_SELF_SIG): a crypto plug-in built for
 *    2 would be called with a different argument list, so every plug-in built for 2 is refused. */
#define VT_INSTANCE_ABI 3

enum vt_kind { VT_KIND_TLS = 0, VT_KIND_CRYPTO = 1, VT_KIND_ATTESTER = 2, VT_KIND_VERIFIER = 3,
               VT_KIND__COUNT };

enum { VT_INST_EXPLICIT = 1u << 0 /* only when named: sim, null */ };

struct vt_instance_hdr {
    int abi;            /* VT_INSTANCE_ABI */
    enum vt_kind kind;
    const char *name;
    int priority;       /* higher wins */
    unsigned flags;
    /* NULL-terminated names of the options this instance reads ("tdx.tsm_dir"); NULL = none. */
    const char *const *options;
};

/* ---- attesters -------------------------------------------------------------------- */

struct vti_attest_ctx {
    const char *sim_dir;             /* resolved: config, else $VERITEE_SIM_DIR, else NULL */
    const struct vt_option *options; /* e.g. "tdx.tsm_dir", "sgx.attestation_dir" */
    size_t n_options;
};
/* Value of an option by name, or def. */
const char *vti_option(const struct vti_attest_ctx *ctx, const char *name, const char *def);

struct vt_attester_ops {
    struct vt_instance_hdr hdr;
    const char *tee;    /* evidence kind it produces: "sgx", "tdx", "snp", "sim", "null" */
    uint64_t cbor_tag;  /* tag used in the RA-TLS evidence extension */
    /* Is this TEE usable here? (device present) NULL = never auto-detected. */
    bool (*detect)(const struct vti_attest_ctx *ctx);
    /* Produce evidence over report_data; may add endorsements (may leave empty; endorsements
     * NULL: the caller does not want them). */
    VT_RESULT (*collect)(const struct vti_attest_ctx *ctx, const uint8_t report_data[64],
                         struct vt_buf *evidence, struct vt_buf *endorsements);
    /* sim TEEs only: create the test PKI in dir (called by `veritee sim init`), appending the
     * PEM of every root it creates to roots_pem. NULL for real TEEs. */
    VT_RESULT (*sim_init)(const char *dir, struct vt_buf *roots_pem);
};

/* ---- verifiers -------------------------------------------------------------------- */

struct vti_verify_ctx {
    const struct vt_verify_opts *opts;
    int64_t at;                   /* resolved verification time */
    const uint8_t *endorsements;  /* from the certificate (OID 2.23.133.5.4.2), or NULL */
    size_t endorsements_len;
};

struct vt_verifier_ops {
    struct vt_instance_hdr hdr;
    const char *tee;
    /* Does this verifier handle this evidence? cbor_tag is 0 for raw evidence (no cert). */
    bool (*accepts)(uint64_t cbor_tag, const uint8_t *ev, size_t len);
    /* Verify fully. Must record every check with vti_report_step(), set tee / insecure /
     * tcb_status / claims and the 64-byte report data; return the first fatal error. */
    VT_RESULT (*verify)(const struct vti_verify_ctx *ctx, const uint8_t *ev, size_t len,
                        struct vt_report *rep);
};

/* ---- registry --------------------------------------------------------------------- */

/* Register (idempotent by kind+name; a later registration with the same name replaces). */
void vti_register(const struct vt_instance_hdr *inst);
/* Registers the built-ins once and loads plug-ins from dir (NULL: $VERITEE_PLUGIN_DIR). */
VT_RESULT vti_registry_init(const char *plugin_dir);
/* Look up by name; VT_ERR_NO_INSTANCE if absent. */
VT_RESULT vti_instance_find(enum vt_kind kind, const char *name, const struct vt_instance_hdr **out);
/* Highest-priority instance of kind that is not explicit-only (for tls/crypto). */
VT_RESULT vti_instance_best(enum vt_kind kind, const struct vt_instance_hdr **out);
/* Highest-priority attester whose TEE is detected; VT_ERR_NO_TEE if none. */
VT_RESULT vti_attester_detect(const struct vti_attest_ctx *ctx, const struct vt_attester_ops **out);
/* The verifier that accepts this evidence (explicit-only ones included: evidence names its
 * kind, and trust is decided by the anchors). VT_ERR_UNKNOWN_EVIDENCE if none. */
VT_RESULT vti_verifier_for(uint64_t cbor_tag, const uint8_t *ev, size_t len,
                           const struct vt_verifier_ops **out);
/* Iterate all instances of a kind (for listing). Returns count; fills up to max. */
size_t vti_instance_list(enum vt_kind kind, const struct vt_instance_hdr **out, size_t max);
/* True if inst was loaded from a plug-in (false for built-ins and vti_register callers). */
bool vti_instance_is_plugin(const struct vt_instance_hdr *inst);

/* ---- options ---------------------------------------------------------------------- */

/* Does inst declare option name? */
bool vti_instance_knows(const struct vt_instance_hdr *inst, const char *name);
/* NULL-terminated options the library itself reads (not tied to an instance): "verify.at". */
extern const char *const vti_library_options[];
/* Every option must be known (see the rule at the top): VT_ERR_UNKNOWN_OPTION otherwise,
 * with *bad (if not NULL) set to the index of the first unknown one. A NULL name is
 * VT_ERR_INVALID_ARG. Call after vti_registry_init (plug-ins declare options too). */
VT_RESULT vti_options_check(const struct vt_option *opts, size_t n, size_t *bad);

#endif
