/* SPDX-License-Identifier: Apache-2.0 */
/*
 * snp.h - the real SEV-SNP attester's device interface (Linux), exposed for tests.
 *
 * Structures of the Linux uAPI include/uapi/linux/sev-guest.h, written out here (the layout
 * is the kernel ABI). All /dev/sev-guest access goes through struct vti_snp_dev_ops so that
 * a test can replace open/ioctl/close with a fake device (vti_snp_set_dev_ops); the
 * configfs-tsm path uses ordinary files and is tested against a fake directory.
 */
#ifndef VT_ATTESTERS_SNP_H
#define VT_ATTESTERS_SNP_H

#include <linux/ioctl.h>
#include <stdint.h>

struct vti_snp_report_req {
    uint8_t user_data[64];
    uint32_t vmpl;
    uint8_t rsvd[28];
};

struct vti_snp_report_resp {
    uint8_t data[4000]; /* MSG_REPORT_RSP: u32 status, u32 report_size, 24 reserved, report */
};

struct vti_snp_guest_request_ioctl {
    uint8_t msg_version; /* must be 1 */
    uint64_t req_data;
    uint64_t resp_data;
    union {
        uint64_t exitinfo2;
        struct {
            uint32_t fw_error;
            uint32_t vmm_error;
        };
    };
};

struct vti_snp_ext_report_req {
    struct vti_snp_report_req data;
    uint64_t certs_address;
    uint32_t certs_len;
};

#define VTI_SNP_GET_REPORT _IOWR('S', 0x0, struct vti_snp_guest_request_ioctl)
#define VTI_SNP_GET_EXT_REPORT _IOWR('S', 0x2, struct vti_snp_guest_request_ioctl)
#define VTI_SNP_VMM_ERR_INVALID_LEN 1u
#define VTI_SNP_VMM_ERR_BUSY 2u

struct vti_snp_dev_ops {
    int (*open)(const char *path, int flags);
    int (*ioctl)(int fd, unsigned long request, void *arg);
    int (*close)(int fd);
};
/* Replace the device functions (tests); NULL restores the real open/ioctl/close. */
void vti_snp_set_dev_ops(const struct vti_snp_dev_ops *ops);

#endif
