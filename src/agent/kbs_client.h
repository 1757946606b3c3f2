/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kbs_client.h - `veritee-agent get-resource --kbs URL`: the CoCo KBS protocol v0.4.0 from the
 * guest (auth -> attest -> resource, JWE decrypted with an ephemeral P-256 key held only in
 * memory), on top of the vtkbs client (src/kbs_client/client.c).
 */
#ifndef VT_AGENT_KBS_CLIENT_H
#define VT_AGENT_KBS_CLIENT_H

#include <stddef.h>

#include "util/buf.h"
#include "veritee/veritee.h"

struct vta_kbs_opts {
    const char *url;      /* http://HOST:PORT or https://HOST:PORT (an optional trailing '/') */
    const char *tee;      /* attester name (sim, sim-tdx, tdx, snp, ...) */
    const char *sim_dir;
    const char *ca;       /* PEM bundle for an HTTPS broker; NULL: the system store */
    const struct vt_option *options;
    size_t n_options;
    unsigned sim_gpus;    /* sim GPUs' device evidence in additional_evidence (tests) */
};

/* Run the whole protocol for PATH (<repo>/<type>/<tag>); the plaintext goes into out (a
 * wiping buffer the caller frees). Returns 0 released, 1 refused or failed (the broker's
 * problem detail, or the local reason, printed on stderr), 2 bad usage (bad URL). */
int vta_kbs_get_resource(const struct vta_kbs_opts *o, const char *path, struct vt_buf *out);

#endif
