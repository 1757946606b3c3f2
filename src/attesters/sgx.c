/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sgx.c - the SGX attester ("sgx") for enclaves run by Gramine: its /dev/attestation
 * pseudo-files (Gramine docs, "Attestation and Secret Provisioning"):
 *   check <dir>/attestation_type == "dcap"; write 64 bytes to <dir>/user_report_data;
 *   read <dir>/quote (an SGX ECDSA v3 quote over that report data).
 * The directory is option "sgx.attestation_dir" (default /dev/attestation), so tests run the
 * same syscalls against a directory that behaves like the device. Trust boundary: the quote
 * is untrusted evidence, only checked for plausibility here.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/instance.h"
#include "evidence/intel_quote.h"

#define ATT_DEFAULT "/dev/attestation"

static bool sgx_detect(const struct vti_attest_ctx *ctx)
{
    char p[4200];
    struct stat st;
    snprintf(p, sizeof(p), "%s/quote", vti_option(ctx, "sgx.attestation_dir", ATT_DEFAULT));
    return stat(p, &st) == 0;
}

static vt_res sgx_collect(const struct vti_attest_ctx *ctx, const uint8_t rd[64],
                          struct vt_buf *ev, struct vt_buf *endo)
{
    (void)endo;
    const char *dir = vti_option(ctx, "sgx.attestation_dir", ATT_DEFAULT);
    char p[4200], t[32] = "";
    snprintf(p, sizeof(p), "%s/attestation_type", dir);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    ENSURE(fd >= 0, VT_ERR_INTEL_SGX_DEVICE);
    ssize_t n = read(fd, t, sizeof(t) - 1);
    close(fd);
    ENSURE(n > 0, VT_ERR_INTEL_SGX_DEVICE);
    t[n] = 0;
    if (t[n - 1] == '\n')
        t[n - 1] = 0;
    ENSURE(strcmp(t, "dcap") == 0, VT_ERR_INTEL_SGX_DEVICE);
    snprintf(p, sizeof(p), "%s/user_report_data", dir);
    fd = open(p, O_WRONLY | O_CLOEXEC);
    ENSURE(fd >= 0, VT_ERR_INTEL_SGX_DEVICE);
    ssize_t w = write(fd, rd, 64);
    close(fd);
    ENSURE(w == 64, VT_ERR_INTEL_SGX_DEVICE);
    snprintf(p, sizeof(p), "%s/quote", dir);
    ev->len = 0;
    vt_res r = vti_file_read(p, VT_INTEL_MAX_QUOTE_LEN, ev);
    ENSURE(vti_is_ok(r), VT_ERR_INTEL_SGX_DEVICE);
    ENSURE(vti_intel_quote_plausible(ev->p, ev->len), VT_ERR_INTEL_SGX_DEVICE);
    return vti_ok();
}

static const char *const sgx_options[] = { "sgx.attestation_dir", NULL };
static const struct vt_attester_ops sgx_attester = {
    .hdr = { VT_INSTANCE_ABI, VT_KIND_ATTESTER, "sgx", 50, 0, sgx_options },
    .tee = "sgx",
    .cbor_tag = 60000,
    .detect = sgx_detect,
    .collect = sgx_collect,
    .sim_init = NULL,
};
const struct vt_instance_hdr *const vt_inst_sgx_attester = &sgx_attester.hdr;
