/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kbs_devices.h - device evidence in a KBS attestation: the GPUs of additional_evidence
 * ({"nvidia": <guest-components device evidence>}), verified by the "nvidia" verifier.
 *
 * Binding, as guest-components derives it (kbs_protocol rcar_client get_composite_evidence,
 * attester nvidia): the device runtime data is JCS({"nonce": <challenge>, "tee-pubkey":
 * <JWK>}) hashed with SHA-384; its first 32 bytes are the SPDM request nonce of every device.
 * The whole additional_evidence string is also inside the primary evidence's report data
 * (kbs.c), so the device list is bound to the attested TEE. Not bound: that the GPUs are
 * attached to that TEE (docs/nvidia.md).
 *
 * Per device i: a result "gpu<i>" (verified or not, with the reason) and its claims without
 * the "gpu.<i>." prefix (arch, uuid, driver_version, vbios_version, fwid, nonce, rim,
 * revocation; the measurements stay out of the token). A failed device does not refuse the
 * attestation: the EAR carries one submod per device with its own status, and a policy rule
 * that names GPUs ("gpus", broker/policy.h) refuses. Refused outright: malformed device
 * evidence, the same device twice, a device nonce already used (single-use in the shared
 * store, like the KBS challenges: no replay at any broker on the same store).
 * Other additional_evidence entries (not "nvidia") stay unverified and grant nothing.
 */
#ifndef VT_KBS_DEVICES_H
#define VT_KBS_DEVICES_H

#include <jansson.h>

#include "policy/policy.h"
#include "kbs/kbs.h"

#define VTK_MAX_DEVICES 8 /* the nvidia verifier's cap */

struct vtk_device {
    bool verified;
    bool insecure;       /* verified against a --root-ca anchor (sim GPU) */
    char reason[240];    /* why not verified */
    json_t *claims;      /* {"arch": "HOPPER", "rim": "match", ...} */
};

struct vtk_devices {
    struct vtk_device d[VTK_MAX_DEVICES];
    size_t n;
};

/* The SPDM nonce guest-components derives for the devices: SHA-384(JCS({"nonce",
 * "tee-pubkey"}))[0..32). */
VT_RESULT vtk_device_nonce(const char *nonce, const json_t *jwk, uint8_t out[32]);

/* Verify the "nvidia" entry of the additional evidence object add (out->n = 0 without one).
 * An error refuses the attestation: VT_ERR_KBS_DEVICE_EVIDENCE (malformed, too many, a
 * device twice), VT_ERR_KBS_DEVICE_NONCE_USED, or a store error; why says what. */
VT_RESULT vtk_devices_verify(struct vtk_server *k, const json_t *add, const char *nonce,
                             const json_t *jwk, int64_t now, struct vtk_devices *out, char *why,
                             size_t wl);
void vtk_devices_free(struct vtk_devices *d);

/* The EAR submods {"gpu<i>": {...}} for d (new reference; NULL on no memory). */
json_t *vtk_devices_submods(const struct vtk_devices *d, const char *policy_id);

/* The devices of a verified token's submods as policy input; free with
 * vtk_device_input_free. */
struct vtk_device_input {
    struct vtb_device dev[VTK_MAX_DEVICES];
    struct vtb_claim_str *cs[VTK_MAX_DEVICES];
    size_t n;
};
VT_RESULT vtk_device_input(const json_t *submods, struct vtk_device_input *out);
void vtk_device_input_free(struct vtk_device_input *in);

#endif
