/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_sim_azure.c - `veritee sim azure-vtpm`: provision a TPM (swtpm) like Azure's paravisor
 * provisions a confidential VM's vTPM, with INSECURE sim hardware reports, so that the
 * az-snp-vtpm / az-tdx-vtpm attesters run on it (library side: vti_az_sim_provision in
 * src/attesters/az_sim.c).
 */
#include <getopt.h>
#include <string.h>

#include "attesters/az_vtpm.h"
#include "attesters/tpm_dev.h"
#include "tool.h"
#include "util/codec.h"

int vt_cmd_sim_azure(int argc, char **argv);

static void usage(FILE *f)
{
    fprintf(f,
            "usage: veritee sim azure-vtpm --tee az-snp-vtpm|az-tdx-vtpm [--sim-dir DIR]\n"
            "                              [--tcti TCTI] [--user-data HEX]\n\n"
            "Provisions the TPM at TCTI (default " VTI_TPM_DEFAULT_TCTI "; swtpm:\n"
            "\"swtpm:host=127.0.0.1,port=N\") like Azure's paravisor (INSECURE, for tests):\n"
            "  - an RSA-2048 restricted signing AK (RSASSA SHA-256) at persistent handle 0x81000003\n"
            "    (an AK already there is replaced);\n"
            "  - the HCL variable data JSON: the AK as JWK \"HCLAkPub\", a sim vm-configuration,\n"
            "    user-data = HEX (up to 64 bytes, zero-padded; default zeros): pass the report\n"
            "    data you will attest with, as Azure's paravisor copies it from NV 0x01400002;\n"
            "  - a sim-snp report (az-snp-vtpm) or sim-tdx TDREPORT (az-tdx-vtpm) over\n"
            "    SHA-256(variable data), from the sim PKI in DIR ('veritee sim init DIR' first);\n"
            "  - the HCL report (\"HCLA\" v2) in NV index 0x01400001.\n"
            "For az-tdx-vtpm the TD quote of that TDREPORT is written to DIR/azure/td_quote.bin\n"
            "(and the TDREPORT to DIR/azure/tdreport.bin) for a fake quote endpoint.\n\n"
            "exit status: 0 provisioned, 1 failed, 2 bad usage\n");
}

int vt_cmd_sim_azure(int argc, char **argv)
{
    static const struct option lo[] = {
        { "tee", required_argument, NULL, 't' },  { "sim-dir", required_argument, NULL, 's' },
        { "tcti", required_argument, NULL, 'T' }, { "user-data", required_argument, NULL, 'u' },
        { "help", no_argument, NULL, 'h' },       { NULL, 0, NULL, 0 },
    };
    const char *tee = NULL, *dir = NULL, *tcti = NULL;
    uint8_t ud[64] = { 0 };
    int ch;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        if (ch == 't') {
            tee = optarg;
        } else if (ch == 's') {
            dir = optarg;
        } else if (ch == 'T') {
            tcti = optarg;
        } else if (ch == 'u') {
            if (!tool_report_data("sim azure-vtpm", optarg, ud))
                return VT_EXIT_USAGE;
        } else if (ch == 'h') {
            usage(stdout);
            return VT_EXIT_OK;
        } else {
            tool_err("sim azure-vtpm: unknown or incomplete option '%s'", argv[optind - 1]);
            usage(stderr);
            return VT_EXIT_USAGE;
        }
    }
    dir = tool_sim_dir(dir);
    if (!tee || (strcmp(tee, "az-snp-vtpm") && strcmp(tee, "az-tdx-vtpm")) || !dir || optind != argc) {
        tool_err("sim azure-vtpm: --tee az-snp-vtpm|az-tdx-vtpm and a sim directory are required");
        usage(stderr);
        return VT_EXIT_USAGE;
    }
    struct vt_buf n = VT_BUF_INIT;
    vt_res r = vti_az_sim_provision(tcti, tee, dir, ud, &n);
    if (r.err) {
        tool_err("sim azure-vtpm: %s", vt_strerror(r.err));
        vti_buf_free_nowipe(&n);
        return VT_EXIT_REJECTED;
    }
    char fp[17];
    vti_hex_encode(n.p, 8, fp);
    printf("%s: AK 0x%08x (RSA-2048, n %s...), HCL report in NV 0x%08x (INSECURE sim)\n", tee,
           VTI_AZ_AK_HANDLE, fp, VTI_AZ_NV_HCL);
    vti_buf_free_nowipe(&n);
    return VT_EXIT_OK;
}
