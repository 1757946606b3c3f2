/*
 * instance.h - the four kinds of pluggable instances (the RATS-TLS model) and their registry.
 *
 * Every ops table starts with a struct vt_instance_hdr. Built-in instances are listed in
 * builtin.c; plug-ins are shared objects in a plug-in directory that export
 *     int vt_plugin_init(int abi, void (*reg)(const struct vt_instance_hdr *));
 * Selection: by name when named; otherwise the highest priority whose detect() says yes.
 * Instances with VT_INST_EXPLICIT (sim, null) are never chosen automatically.
 *
 * The crypto and TLS ops tables are defined in src/crypto/crypto.h and src/tls/tls.h; the
 * attester and verifier ops here, since core dispatches to them.
 */
#ifndef VT_CORE_INSTANCE_H
#define VT_CORE_INSTANCE_H

#include "util/buf.h"
#include "veritee/veritee.h"

#define VT_INSTANCE_ABI 1

enum vt_kind { VT_KIND_TLS = 0, VT_KIND_CRYPTO = 1, VT_KIND_ATTESTER = 2, VT_KIND_VERIFIER = 3,
               VT_KIND__COUNT };

enum { VT_INST_EXPLICIT = 1u << 0 /* only when named: sim, null */ };

struct vt_instance_hdr {
    int abi;            /* VT_INSTANCE_ABI */
    enum vt_kind kind;
    const char *name;
    int priority;       /* higher wins */
    unsigned flags;
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
    /* Produce evidence over report_data; may add endorsements (may leave empty). */
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

#endif
