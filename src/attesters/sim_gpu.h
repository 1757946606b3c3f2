/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_gpu.h - sim-gpu: a simulated NVIDIA confidential GPU for tests (INSECURE by design:
 * anyone who can read the sim directory can forge its reports).
 *
 * `veritee sim init DIR` creates DIR/gpu/ with a P-384 test PKI shaped like NVIDIA's device
 * identity PKI: root "sim NVIDIA Device Identity CA" -> "sim NVIDIA GH100 Identity" ->
 * "sim NVIDIA GH100 Provisioner ICA 1"; per device (made on first use, then kept) a
 * "sim GH100 A01 GSP BROM" CA and the "sim GH100 A01 GSP FMC LF" leaf whose DiceTcbInfo
 * extension (2.23.133.5.4.1, Hopper shape: version, a public key, {sha384, FWID}) carries the
 * device's FWID. The root goes to DIR/gpu/root-ca.pem and DIR/root-ca.pem.
 *
 * The device report is real SPDM 1.1 (DSP0274): GET_MEASUREMENTS request (37 bytes: version
 * 0x11, code 0xE0, signature requested, all blocks, 32-byte nonce, slot 0) followed by the
 * MEASUREMENTS response (64 DMTF blocks with SHA-384 digests, responder nonce, opaque data
 * TLVs as NVIDIA's GSP writes them: driver/VBIOS versions, FWID, ...), signed by the leaf:
 * raw r||s (96 bytes) ECDSA P-384 over SHA-384(request || response without signature).
 */
#ifndef VT_ATTESTERS_SIM_GPU_H
#define VT_ATTESTERS_SIM_GPU_H

#include <openssl/evp.h>

#include "util/buf.h"
#include "util/result.h"

#define VTI_SIM_GPU_MAX 8
#define VTI_SIM_GPU_BLOCKS 64
#define VTI_SIM_GPU_DRIVER "550.90.07"
#define VTI_SIM_GPU_VBIOS "96.00.9F.00.01"

/* Create DIR/gpu/ (the CA part of the PKI); appends the root's PEM to roots_pem. */
VT_RESULT vti_sim_gpu_init(const char *dir, struct vt_buf *roots_pem);

/* guest-components' device evidence JSON for count (1..VTI_SIM_GPU_MAX) devices, each
 * reporting over nonce: {"device_evidence_list": [{"arch", "uuid", "evidence" (base64),
 * "certificate" (base64 of the PEM chain leaf..root)}]}, compact, into out. */
VT_RESULT vti_sim_gpu_evidence(const char *dir, const uint8_t nonce[32], unsigned count,
                               struct vt_buf *out);

/* The SPDM writer: request || signed response of device `dev`, signed by leaf. */
VT_RESULT vti_sim_gpu_report(EVP_PKEY *leaf, const uint8_t nonce[32], const uint8_t fwid[48],
                             struct vt_buf *out);
/* The sim measurement of block index (1..VTI_SIM_GPU_BLOCKS) and the device's FWID. */
void vti_sim_gpu_measurement(unsigned index, uint8_t out[48]);
void vti_sim_gpu_fwid(unsigned dev, uint8_t out[48]);

#endif
