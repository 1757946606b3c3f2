/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tdx_guest.h - /dev/tdx_guest uAPI (Linux include/uapi/linux/tdx-guest.h: struct
 * tdx_report_req, TDX_CMD_GET_REPORT0 = _IOWR('T', 1, ...)) and the QGS GET_QUOTE message
 * constants (Intel DCAP qgs_msg_lib.h). All device access of the tdx attester goes through
 * struct vti_tdx_dev_ops so a test can replace open/ioctl/close with a fake device.
 */
#ifndef VT_ATTESTERS_TDX_GUEST_H
#define VT_ATTESTERS_TDX_GUEST_H

#include <stdint.h>
#include <sys/ioctl.h>

#include "util/buf.h"
#include "util/result.h"

#define VTI_TDX_REPORTDATA_LEN 64
#define VTI_TDX_REPORT_LEN 1024
#define VTI_TDX_REPORT_RD_OFF 128 /* REPORTMACSTRUCT.REPORTDATA in the TDREPORT */
#define VTI_TDX_REPORT_TYPE_TDX 0x81 /* REPORTMACSTRUCT.REPORTTYPE.TYPE */

struct vti_tdx_report_req {
    uint8_t reportdata[VTI_TDX_REPORTDATA_LEN];
    uint8_t tdreport[VTI_TDX_REPORT_LEN];
};
#define VTI_TDX_CMD_GET_REPORT0 _IOWR('T', 1, struct vti_tdx_report_req)

/* QGS messages: 4-byte big-endian length, then a little-endian header
 * { u16 major, u16 minor, u32 type, u32 size (whole message incl. header), u32 error_code }. */
#define VTI_QGS_HDR_LEN 16u
#define VTI_QGS_MAJOR 1u
#define VTI_QGS_MINOR_MAX 1u /* qgs_msg_lib 1.0 and 1.1 */
#define VTI_QGS_GET_QUOTE_REQ 0u
#define VTI_QGS_GET_QUOTE_RESP 1u
#define VTI_QGS_MAX_MSG ((size_t)(1u << 20) + 64u * 1024u)

struct vti_tdx_dev_ops {
    int (*open)(const char *path, int flags);
    int (*ioctl)(int fd, unsigned long request, void *arg);
    int (*close)(int fd);
};
/* Replace the device functions (tests); NULL restores the real open/ioctl/close. */
void vti_tdx_set_dev_ops(const struct vti_tdx_dev_ops *ops);

/* Parse one QGS GET_QUOTE_RESP message (without the length prefix), copying the quote into
 * quote. Exposed for the unit test (a fuzz target would call it too). */
VT_RESULT vti_qgs_parse_resp(const uint8_t *msg, size_t len, struct vt_buf *quote);

#endif
