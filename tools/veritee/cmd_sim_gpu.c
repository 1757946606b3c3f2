/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_sim_gpu.c - `veritee sim gpu`: device evidence of N simulated NVIDIA GPUs (INSECURE,
 * for tests) in guest-components' shape, from the sim-gpu PKI `veritee sim init` made
 * (library side: src/attesters/sim_gpu.c).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "attesters/sim_gpu.h"
#include "tool.h"
#include "util/codec.h"

int vt_cmd_sim_gpu(int argc, char **argv);

static void usage(FILE *f)
{
    fprintf(f,
            "usage: veritee sim gpu [--sim-dir DIR] --nonce HEX [--count N] [--out FILE]\n\n"
            "Writes the device evidence of N (1..%d, default 1) simulated NVIDIA Hopper GPUs\n"
            "(INSECURE, for tests) as guest-components' nvidia attester does:\n"
            "{\"device_evidence_list\": [{\"arch\", \"uuid\", \"evidence\", \"certificate\"}]}, where\n"
            "evidence is a real-format SPDM 1.1 GET_MEASUREMENTS request + signed MEASUREMENTS\n"
            "response over --nonce (32 bytes, hex: the SPDM nonce) and certificate the device's\n"
            "PEM chain to \"sim NVIDIA Device Identity CA\" (DIR/gpu/root-ca.pem, also in\n"
            "DIR/root-ca.pem; trusted only where given with --root-ca). Devices keep their\n"
            "certificates in DIR/gpu. The sim directory: --sim-dir or VERITEE_SIM_DIR,\n"
            "made by 'veritee sim init DIR'. Output: FILE (--out) or standard output.\n\n"
            "exit status: 0 written, 1 failed, 2 bad usage\n",
            VTI_SIM_GPU_MAX);
}

struct gpu_args {
    const char *dir, *out;
    uint8_t nonce[32];
    bool have_nonce;
    unsigned count;
};

/* 0: parsed; otherwise the exit status. */
static int parse(int argc, char **argv, struct gpu_args *a)
{
    static const struct option lo[] = {
        { "sim-dir", required_argument, NULL, 's' }, { "nonce", required_argument, NULL, 'n' },
        { "count", required_argument, NULL, 'c' },   { "out", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },          { NULL, 0, NULL, 0 },
    };
    int ch;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        char *end = NULL;
        if (ch == 's') {
            a->dir = optarg;
        } else if (ch == 'o') {
            a->out = optarg;
        } else if (ch == 'n') {
            a->have_nonce = strlen(optarg) == 64 && !vti_hex_decode_fixed(optarg, a->nonce, 32).err;
            if (!a->have_nonce) {
                tool_err("sim gpu: %s", vt_strerror(VT_ERR_SIM_GPU_NONCE));
                return VT_EXIT_USAGE;
            }
        } else if (ch == 'c') {
            unsigned long v = strtoul(optarg, &end, 10);
            if (!*optarg || *end || v < 1 || v > VTI_SIM_GPU_MAX) {
                tool_err("sim gpu: %s", vt_strerror(VT_ERR_SIM_GPU_COUNT));
                return VT_EXIT_USAGE;
            }
            a->count = (unsigned)v;
        } else if (ch == 'h') {
            usage(stdout);
            return -1;
        } else {
            tool_err("sim gpu: unknown or incomplete option '%s'", argv[optind - 1]);
            usage(stderr);
            return VT_EXIT_USAGE;
        }
    }
    a->dir = tool_sim_dir(a->dir);
    if (!a->dir || !a->have_nonce || optind != argc) {
        tool_err("sim gpu: --nonce and a sim directory are required");
        usage(stderr);
        return VT_EXIT_USAGE;
    }
    return 0;
}

int vt_cmd_sim_gpu(int argc, char **argv)
{
    struct gpu_args a = { .count = 1 };
    int rc = parse(argc, argv, &a);
    if (rc)
        return rc < 0 ? VT_EXIT_OK : rc;
    struct vt_buf ev = VT_BUF_INIT;
    vt_res r = vti_sim_gpu_evidence(a.dir, a.nonce, a.count, &ev);
    if (!r.err)
        r = vti_buf_append(&ev, "\n", 1);
    if (!r.err && a.out)
        r = vti_file_write(a.out, ev.p, ev.len, 0644);
    else if (!r.err && fwrite(ev.p, 1, ev.len, stdout) != ev.len)
        r = VT_FAIL(VT_ERR_IO);
    vti_buf_free_nowipe(&ev);
    if (r.err) {
        tool_err("sim gpu: %s", vt_strerror(r.err));
        return VT_EXIT_REJECTED;
    }
    return VT_EXIT_OK;
}
