/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_sim.c - `veritee sim init DIR`: create the test PKI of every sim TEE in DIR;
 * `veritee sim azure-vtpm ...`: provision a TPM like an Azure CVM's (cmd_sim_azure.c).
 *
 * Creates DIR (0700), runs the sim_init hook of the "sim" attester first and then of every
 * other registered attester that has one (sim-sgx, sim-tdx, sim-snp, plug-ins), and writes
 * DIR/root-ca.pem holding every root they created: the file to pass as --root-ca.
 * INSECURE by design: anyone who can read DIR can forge evidence that chains to these roots.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "attesters/sim_gpu.h"
#include "core/instance.h"
#include "tool.h"

int vt_cmd_sim_azure(int argc, char **argv); /* cmd_sim_azure.c */
int vt_cmd_sim_gpu(int argc, char **argv);   /* cmd_sim_gpu.c */

static void sim_usage(FILE *f)
{
    fprintf(f, "usage: veritee sim init DIR\n"
               "       veritee sim azure-vtpm --tee az-snp-vtpm|az-tdx-vtpm ... (see --help there)\n"
               "       veritee sim gpu --nonce HEX [--count N] ... (see --help there)\n\n"
               "Creates DIR (mode 0700) with the INSECURE test PKI of the sim TEEs: the sim root\n"
               "CA (\"Veritee Sim Root (INSECURE)\"), the attestation key and certificate, a default\n"
               "measurement (DIR/measurement), and the roots of every other sim TEE (sim-sgx,\n"
               "sim-tdx, sim-snp when built) and of sim-gpu (DIR/gpu: NVIDIA-shaped P-384 device\n"
               "PKI). DIR/root-ca.pem holds all their roots: pass it to\n"
               "'veritee verify --root-ca'. Then use '--tee sim --sim-dir DIR' (or\n"
               "VERITEE_SIM_DIR=DIR) to attest.\n\n"
               "exit status: 0 created, 1 failed, 2 bad usage\n");
}

int cmd_sim(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "azure-vtpm") == 0)
        return vt_cmd_sim_azure(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "gpu") == 0)
        return vt_cmd_sim_gpu(argc - 1, argv + 1);
    if (tool_wants_help(argc, argv)) {
        sim_usage(stdout);
        return VT_EXIT_OK;
    }
    if (argc != 3 || strcmp(argv[1], "init") != 0 || argv[2][0] == '-') {
        sim_usage(stderr);
        return VT_EXIT_USAGE;
    }
    const char *dir = argv[2];
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        tool_err("sim init: cannot create %s: %s", dir, strerror(errno));
        return VT_EXIT_REJECTED;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || chmod(dir, 0700) != 0) {
        tool_err("sim init: %s is not a usable directory", dir);
        return VT_EXIT_REJECTED;
    }
    vt_res r = vti_registry_init(NULL);
    if (r.err)
        tool_err("sim init: plug-in loading: %s", vt_strerror(r.err));
    const struct vt_instance_hdr *l[64];
    size_t n = vti_instance_list(VT_KIND_ATTESTER, l, 64);
    struct vt_buf roots = VT_BUF_INIT;
    int rc = VT_EXIT_OK;
    size_t done = 0;
    /* "sim" first so that its root leads root-ca.pem, then the others in registry order */
    for (int pass = 0; pass < 2 && rc == VT_EXIT_OK; pass++) {
        for (size_t i = 0; i < n; i++) {
            const struct vt_attester_ops *a = (const struct vt_attester_ops *)l[i];
            bool is_sim = strcmp(a->hdr.name, "sim") == 0;
            if (!a->sim_init || (pass == 0) != is_sim)
                continue;
            size_t before = roots.len;
            r = a->sim_init(dir, &roots);
            if (r.err) {
                tool_err("sim init: %s: %s", a->hdr.name, vt_strerror(r.err));
                rc = VT_EXIT_REJECTED;
                break;
            }
            printf("%-10s initialised (%s)\n", a->hdr.name,
                   roots.len > before ? "root added to root-ca.pem" : "no root");
            done++;
        }
    }
    if (rc == VT_EXIT_OK) {
        r = vti_sim_gpu_init(dir, &roots);
        if (r.err) {
            tool_err("sim init: sim-gpu: %s", vt_strerror(r.err));
            rc = VT_EXIT_REJECTED;
        } else {
            printf("%-10s initialised (root added to root-ca.pem)\n", "sim-gpu");
        }
    }
    if (rc == VT_EXIT_OK) {
        char path[4096];
        int k = snprintf(path, sizeof(path), "%s/root-ca.pem", dir);
        if (k <= 0 || (size_t)k >= sizeof(path) ||
            vti_file_write(path, roots.p ? roots.p : (const uint8_t *)"", roots.len, 0644).err) {
            tool_err("sim init: cannot write %s/root-ca.pem", dir);
            rc = VT_EXIT_REJECTED;
        } else {
            printf("sim TEEs: %zu; trust anchors for verification: %s (INSECURE test roots)\n", done,
                   path);
        }
    }
    vti_buf_free_nowipe(&roots);
    return rc;
}
