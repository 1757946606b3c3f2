/* SPDX-License-Identifier: Apache-2.0 */
/*
 * veritee/veritee.h - the public API of libveritee.
 *
 * Attested TLS (Interoperable RA-TLS): a TLS 1.3 channel whose certificate carries TEE
 * evidence bound to the certificate key, and verification of evidence (raw or inside a
 * certificate) against vendor or explicitly given trust anchors.
 *
 * Conventions: functions return 0 (VT_OK) or a vt_err code (see veritee/errors.h); outputs are
 * named ret_* and untouched on failure; free functions accept NULL. Handles are opaque.
 * Thread safety: a vt_ctx may be shared by many threads creating connections at once; a
 * vt_conn is used by one thread at a time. The only global mutable state is the instance
 * registry (guarded internally) and the log sink.
 */
#ifndef VERITEE_VERITEE_H
#define VERITEE_VERITEE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "veritee/errors.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VT_API __attribute__((visibility("default")))
#define VT_MUST __attribute__((warn_unused_result))

#define VT_VERSION_STRING "0.1.0"
#define VT_REPORT_DATA_LEN 64

/* ---- logging ------------------------------------------------------------------------ */

enum vt_log_level { VT_LOG_DEBUG = 0, VT_LOG_INFO = 1, VT_LOG_WARN = 2, VT_LOG_ERROR = 3,
                    VT_LOG_OFF = 4 };
typedef void (*vt_log_fn)(enum vt_log_level level, const char *msg, void *arg);
/* Send library log lines at or above min_level to fn (NULL fn: stderr; VT_LOG_OFF: silence). */
VT_API void vt_log_set(vt_log_fn fn, void *arg, enum vt_log_level min_level);

/* ---- claims ------------------------------------------------------------------------- */

enum vt_claim_type { VT_CLAIM_BOOL, VT_CLAIM_INT, VT_CLAIM_STRING, VT_CLAIM_BYTES,
                     VT_CLAIM_STRLIST };

struct vt_claim {
    const char *name;
    enum vt_claim_type type;
    bool b;              /* VT_CLAIM_BOOL */
    int64_t i;           /* VT_CLAIM_INT */
    const char *s;       /* VT_CLAIM_STRING */
    const uint8_t *p;    /* VT_CLAIM_BYTES (shown as lower-case hex in JSON) */
    size_t n;            /* VT_CLAIM_BYTES length, VT_CLAIM_STRLIST count */
    const char *const *list; /* VT_CLAIM_STRLIST */
};

typedef struct vt_claims vt_claims;
VT_API size_t vt_claims_count(const vt_claims *c);
VT_API const struct vt_claim *vt_claims_at(const vt_claims *c, size_t i);
/* NULL when absent. */
VT_API const struct vt_claim *vt_claims_get(const vt_claims *c, const char *name);

/* ---- verification results --------------------------------------------------------- */

/* One check a verifier made, in order (what --explain prints). */
struct vt_step {
    const char *text; /* e.g. "quote signature by attestation key" with what was compared */
    int result;       /* 1 ok, 0 failed, -1 informational */
};

typedef struct vt_report vt_report;
VT_API bool vt_report_verified(const vt_report *r);
VT_API const char *vt_report_tee(const vt_report *r);        /* "sgx", "tdx", "snp", "sim", ... */
VT_API bool vt_report_insecure(const vt_report *r);          /* sim/null evidence */
VT_API const char *vt_report_tcb_status(const vt_report *r); /* NULL where the TEE has none */
VT_API const vt_claims *vt_report_claims(const vt_report *r);
VT_API int vt_report_error(const vt_report *r);              /* VT_OK when verified */
VT_API const char *vt_report_error_message(const vt_report *r);
VT_API size_t vt_report_step_count(const vt_report *r);
VT_API const struct vt_step *vt_report_step(const vt_report *r, size_t i);
/* The report as one JSON object (see README); steps included when explain. Free with free(). */
VT_API char *vt_report_to_json(const vt_report *r, bool explain);
VT_API void vt_report_free(vt_report *r);

/* Extra options for instances (device paths, ...), as name=value pairs. A name that no
 * registered instance reads is refused with VT_ERR_UNKNOWN_OPTION (vt_verify, vt_ctx_new);
 * names of instances not used in this run are accepted and ignored. */
struct vt_option {
    const char *name;
    const char *value;
};

struct vt_verify_opts {
    const char *const *root_ca_files; /* PEM files of extra trust anchors (e.g. sim roots) */
    size_t n_root_ca_files;
    const char *collateral; /* file or directory of endorsements (Intel PCS, AMD KDS, ...) */
    int64_t at;             /* verification time, Unix seconds; 0 = now */
    const char *verifier;   /* verifier instance name; NULL = chosen from the evidence */
    bool allow_null;        /* accept null (empty) evidence; never by default */
    const uint8_t *nonce;   /* expected "nonce" claim in an RA-TLS certificate, or NULL */
    size_t nonce_len;
    const char *plugin_dir; /* extra instances; NULL = $VERITEE_PLUGIN_DIR if set */
    const struct vt_option *options;
    size_t n_options;
    /* Expected report data (--report-data), or NULL: raw SGX/TDX/SNP evidence must carry
     * exactly these bytes (at most 64) zero-padded to 64; for az-snp-vtpm / az-tdx-vtpm they
     * are the nonce that the TPM quote's extraData must equal exactly. */
    const uint8_t *report_data;
    size_t report_data_len;
};

/*
 * Verify evidence: a raw quote/report, or an RA-TLS certificate (PEM or DER), in which case
 * the key binding is checked too. *ret_report is set whether or not verification succeeded
 * (when it could be produced); the return value is VT_OK only if verified.
 */
VT_API VT_MUST int vt_verify(const struct vt_verify_opts *opts, const uint8_t *data, size_t len,
                             vt_report **ret_report);

/* ---- attested TLS ------------------------------------------------------------------ */

enum vt_role { VT_ROLE_CLIENT = 0, VT_ROLE_SERVER = 1 };
enum vt_key_type { VT_KEY_P256 = 0, VT_KEY_P384 = 1, VT_KEY_RSA3072 = 2 };

struct vt_custom_claim {
    const char *name;
    const uint8_t *value;
    size_t len;
};

/* Return 0 to accept the peer, non-zero to refuse it. peer is NULL for an unattested peer
 * that was allowed with allow_unattested. */
typedef int (*vt_verify_cb)(const vt_report *peer, void *arg);

struct vt_config {
    enum vt_role role;
    bool mutual;              /* server: require and verify client evidence */
    const char *tls;          /* "openssl", "wolfssl"; NULL = highest priority */
    const char *crypto;       /* "openssl", "wolfcrypt"; NULL = highest priority */
    const char *attester;     /* "sim", "tdx", ...; NULL = detect; "none" = do not attest */
    const char *verifier;     /* NULL = chosen from the peer's evidence */
    enum vt_key_type key_type;
    const struct vt_custom_claim *claims;
    size_t n_claims;
    const char *const *root_ca_files;
    size_t n_root_ca_files;
    const char *collateral;
    bool allow_unattested;    /* accept a peer certificate without evidence */
    const char *sim_dir;      /* for sim attesters; NULL = $VERITEE_SIM_DIR */
    const char *plugin_dir;
    const char *cert_file;    /* ordinary certificate + key (PEM) instead of attesting */
    const char *key_file;
    const char *ca_file;      /* for an unattested peer: verify its chain against this CA */
    vt_verify_cb verify_cb;
    void *verify_cb_arg;
    const struct vt_option *options;
    size_t n_options;
    int64_t verify_at;        /* pin the time peer evidence is verified at; 0 = now */
    const uint8_t *nonce;     /* "nonce" claim to put in our own certificate (freshness) */
    size_t nonce_len;
    const uint8_t *peer_nonce; /* demand this "nonce" claim in the peer's certificate */
    size_t peer_nonce_len;
    /* For an unattested peer (allow_unattested, normally with ca_file): the DNS name or IP
     * literal its certificate must be issued for, checked against the subjectAltName (the
     * subject CN only when there is no DNS SAN, the RFC 6125 legacy rule) with OpenSSL's
     * X509_check_host / X509_check_ip_asc; VT_ERR_PEER_NAME_MISMATCH otherwise. NULL = no
     * name check. Ignored for attested peers, whose identity is their evidence and claims. */
    const char *peer_name;
};

typedef struct vt_ctx vt_ctx;
typedef struct vt_conn vt_conn;

/* Create a context: generates the key, collects evidence and builds the certificate once;
 * every connection of this context reuses them. */
VT_API VT_MUST int vt_ctx_new(const struct vt_config *cfg, vt_ctx **ret_ctx);
VT_API void vt_ctx_free(vt_ctx *ctx);
/* The context's own certificate (DER); valid while ctx lives. */
VT_API const uint8_t *vt_ctx_cert(const vt_ctx *ctx, size_t *len);

/* Wrap a connected socket; the fd stays owned by the caller. */
VT_API VT_MUST int vt_conn_new(vt_ctx *ctx, int fd, vt_conn **ret_conn);
VT_API VT_MUST int vt_conn_handshake(vt_conn *c);
/* *got == 0 with VT_OK means the peer closed cleanly. */
VT_API VT_MUST int vt_conn_read(vt_conn *c, void *buf, size_t len, size_t *got);
VT_API VT_MUST int vt_conn_write(vt_conn *c, const void *buf, size_t len);
VT_API int vt_conn_shutdown(vt_conn *c);
VT_API void vt_conn_free(vt_conn *c);
/* The verified report of the peer; NULL if the peer did not attest. Valid while c lives. */
VT_API const vt_report *vt_conn_peer_report(const vt_conn *c);
/* Non-blocking sockets: after vt_conn_handshake/read/write/shutdown returned
 * VT_ERR_TLS_WANT_IO, what to wait for on the fd (poll POLLIN / POLLOUT) before calling the
 * same function again (vt_conn_write: with the same buffer and length). 0 when the last call
 * did not return VT_ERR_TLS_WANT_IO. */
enum vt_want { VT_WANT_READ = 1, VT_WANT_WRITE = 2 };
VT_API int vt_conn_want(const vt_conn *c);
/* Human-readable detail of the last failure on this connection (never secrets). */
VT_API const char *vt_conn_error_detail(const vt_conn *c);

#ifdef __cplusplus
}
#endif
#endif
