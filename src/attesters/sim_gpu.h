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

/* The sim RIMs (the test PKI "sim NVIDIA RIM Root CA" -> "sim NVIDIA RIM Signer" that
 * `sim init` makes in DIR/gpu; its root: DIR/gpu/rim-root-ca.pem, in no other roots file):
 * writes out_dir/sim-gpu-driver-rim.xml (driver version `driver`, NULL = the sim driver
 * VTI_SIM_GPU_DRIVER; RIM indices VTI_SIM_GPU_RIM_VBIOS_N..63) and out_dir/sim-gpu-vbios-rim.xml
 * (VTI_SIM_GPU_VBIOS, indices 0..VTI_SIM_GPU_RIM_VBIOS_N-1), NVIDIA's layout, signed with
 * vti_nv_rim_sign_sim. RIM index i holds the block i+1 a sim GPU running `driver` reports:
 * with the default they match the sim GPUs; with another driver version every driver index
 * differs (a RIM for other measurements). VT_ERR_SIM_GPU_DIR: no RIM PKI in DIR/gpu;
 * VT_ERR_NV_RIM_KIND / VT_ERR_INVALID_ARG: `driver` is not a driver version
 * (2-4 dot-separated decimal groups, at most VTI_SIM_GPU_RIM_DRIVER_MAX characters). */
#define VTI_SIM_GPU_RIM_VBIOS_N 8
#define VTI_SIM_GPU_RIM_DRIVER_MAX 24
VT_RESULT vti_sim_gpu_rims(const char *dir, const char *driver, const char *out_dir);

/* The SPDM writer: request || signed response of device `dev`, signed by leaf. */
VT_RESULT vti_sim_gpu_report(EVP_PKEY *leaf, const uint8_t nonce[32], const uint8_t fwid[48],
                             struct vt_buf *out);
/* The sim measurement of block index (1..VTI_SIM_GPU_BLOCKS) and the device's FWID. */
void vti_sim_gpu_measurement(unsigned index, uint8_t out[48]);
void vti_sim_gpu_fwid(unsigned dev, uint8_t out[48]);

#endif
