/* SPDX-License-Identifier: Apache-2.0 */
/*
 * client.h - KBS protocol client (HTTP/1.1 over libevent, http_client.h): auth -> attest (local attester) -> resource, the
 * JWE decrypted with an ephemeral key held only in memory. Used by veritee-agent
 * (`get-resource --kbs URL`), the tests and the benchmark.
 *
 * Layout: this header, client.c and jose.[ch] form the client library `vtkbs_client`
 * (src/kbs_client/CMakeLists.txt): libveritee, src/proto, OpenSSL, jansson and libevent only. It
 * never includes the broker headers or the KBS server's headers (kbs.h, ear.h), so the agent, which
 * includes only proto/ and this header, links no database or HTTP server library. The
 * server side (kbs.c, http.c, ear.c: vtkbs) links this library for JOSE.
 */
#ifndef VT_KBS_CLIENT_CLIENT_H
#define VT_KBS_CLIENT_CLIENT_H

#include "util/buf.h"
#include "util/result.h"
#include "veritee/veritee.h"

#ifndef VTK_PROTOCOL_VERSION
#define VTK_PROTOCOL_VERSION "0.4.0" /* the KBS protocol spoken (kbs.h says the same) */
#endif

#define VTK_CLIENT_MAX_OPTIONS 32 /* attester options (--option) a run takes */

struct vtk_client_opts {
    const char *url;           /* https://host:port or http://... (no trailing path) */
    const char *attester;      /* "tdx", "sgx", "snp", "az-snp-vtpm", "sim", "sim-tdx", ... */
    const char *sim_dir;
    const char *cacert;        /* PEM bundle for an HTTPS broker; NULL = system store */
    const struct vt_option *options; /* attester options (at most VTK_CLIENT_MAX_OPTIONS) */
    size_t n_options;
    bool rsa;                  /* tee key RSA-2048 / RSA-OAEP-256 instead of P-256 */
    const char *fetch_url;     /* fetch with the token (Bearer) from another broker */
    const char *token;         /* skip auth/attest: use this token (and need key_pem) */
    unsigned sim_gpus;         /* additional_evidence from this many sim GPUs (sim-gpu, tests;
                                * INSECURE); 0: none */
};

/* One whole protocol run; plaintext of path into out (a wiping buffer). token (optional)
 * receives the EAR token. why (>= 160 bytes): the broker's problem detail or the local
 * reason. HTTP status in *status (0 if no response). */
VT_RESULT vtk_client_get_resource(const struct vtk_client_opts *o, const char *path,
                                  struct vt_buf *out, struct vt_buf *token, int *status,
                                  char *why, size_t why_len);

#endif
