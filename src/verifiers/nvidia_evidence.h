/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvidia_evidence.h - guest-components' NVIDIA device evidence JSON.
 *
 *   {"device_evidence_list": [{"arch": "HOPPER", "uuid": "GPU-..", "evidence": "..",
 *                              "certificate": ".."}, ...]}
 * also a bare list [ {...}, ... ] or one device object {...}. "arch": HOPPER or BLACKWELL (any
 * case); "uuid" optional; "evidence": the SPDM request || response, hex or standard base64;
 * "certificate": standard base64 of the PEM chain (leaf first), or the PEM text itself.
 * Trust boundary: all of it is untrusted; size-capped, duplicate keys refused, at most
 * VT_NV_MAX_DEVICES devices.
 */
#ifndef VT_VERIFIERS_NVIDIA_EVIDENCE_H
#define VT_VERIFIERS_NVIDIA_EVIDENCE_H

#include "util/buf.h"

#define VT_NV_MAX_EVIDENCE (4u << 20)
#define VT_NV_MAX_DEVICES 8
#define VT_NV_MAX_REPORT (256u * 1024u)
#define VT_NV_MAX_CHAIN (64u * 1024u)

enum vt_nv_arch { VT_NV_HOPPER = 1, VT_NV_BLACKWELL = 2 };

struct vti_nv_device {
    enum vt_nv_arch arch;
    char uuid[80];          /* empty when absent */
    struct vt_buf report;   /* SPDM request || response */
    struct vt_buf chain;    /* PEM text */
};

struct vti_nv_ev {
    size_t n;
    struct vti_nv_device dev[VT_NV_MAX_DEVICES];
};

VT_RESULT vti_nv_evidence_parse(const uint8_t *p, size_t len, struct vti_nv_ev *ev);
void vti_nv_evidence_free(struct vti_nv_ev *ev);
/* Cheap shape test for accepts(): one of the three JSON shapes (values not decoded). */
bool vti_nv_evidence_shape(const uint8_t *p, size_t len);
/* "HOPPER" / "BLACKWELL". */
const char *vti_nv_arch_name(enum vt_nv_arch a);

#endif
