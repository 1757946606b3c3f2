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
            "usage: veritee sim gpu [--sim-dir DIR] --nonce HEX [--count N] [--out FILE]\n"
            "       veritee sim gpu [--sim-dir DIR] --rims OUTDIR [--rim-driver VERSION]\n\n"
            "Writes the device evidence of N (1..%d, default 1) simulated NVIDIA Hopper GPUs\n"
            "(INSECURE, for tests) as guest-components' nvidia attester does:\n"
            "{\"device_evidence_list\": [{\"arch\", \"uuid\", \"evidence\", \"certificate\"}]}, where\n"
            "evidence is a real-format SPDM 1.1 GET_MEASUREMENTS request + signed MEASUREMENTS\n"
            "response over --nonce (32 bytes, hex: the SPDM nonce) and certificate the device's\n"
            "PEM chain to \"sim NVIDIA Device Identity CA\" (DIR/gpu/root-ca.pem, also in\n"
            "DIR/root-ca.pem; trusted only where given with --root-ca). Devices keep their\n"
            "certificates in DIR/gpu. The sim directory: --sim-dir or VERITEE_SIM_DIR,\n"
            "made by 'veritee sim init DIR'. Output: FILE (--out) or standard output.\n\n"
            "  --rims OUTDIR          also (or, without --nonce, only) write the sim GPUs' RIMs\n"
            "                         (driver and VBIOS reference manifests, NVIDIA's layout)\n"
            "                         to OUTDIR/sim-gpu-{driver,vbios}-rim.xml, signed by the\n"
            "                         sim RIM PKI; its root DIR/gpu/rim-root-ca.pem is trusted\n"
            "                         only where given with --root-ca\n"
            "  --rim-driver VERSION   the RIMs describe a sim GPU running driver VERSION\n"
            "                         (default %s: they match); another version gives a\n"
            "                         driver RIM for other measurements (a mismatch)\n\n"
            "exit status: 0 written, 1 failed, 2 bad usage\n",
            VTI_SIM_GPU_MAX, VTI_SIM_GPU_DRIVER);
}

struct gpu_args {
    const char *dir, *out, *rims, *rim_driver;
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
        { "rims", required_argument, NULL, 'r' },    { "rim-driver", required_argument, NULL, 'v' },
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
        } else if (ch == 'r') {
            a->rims = optarg;
        } else if (ch == 'v') {
            a->rim_driver = optarg;
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
    if (!a->dir || !(a->have_nonce || a->rims) || optind != argc || (a->rim_driver && !a->rims)) {
        tool_err("sim gpu: --nonce (or --rims) and a sim directory are required; --rim-driver "
                 "goes with --rims");
        usage(stderr);
        return VT_EXIT_USAGE;
    }
    return 0;
}

/* The device evidence of a.count GPUs over a.nonce to a.out or standard output. */
static vt_res write_evidence(const struct gpu_args *a)
{
    struct vt_buf ev = VT_BUF_INIT;
    vt_res r = vti_sim_gpu_evidence(a->dir, a->nonce, a->count, &ev);
    if (!r.err)
        r = vti_buf_append(&ev, "\n", 1);
    if (!r.err && a->out)
        r = vti_file_write(a->out, ev.p, ev.len, 0644);
    else if (!r.err && fwrite(ev.p, 1, ev.len, stdout) != ev.len)
        r = VT_FAIL(VT_ERR_IO);
    vti_buf_free_nowipe(&ev);
    return r;
}

int vt_cmd_sim_gpu(int argc, char **argv)
{
    struct gpu_args a = { .count = 1 };
    int rc = parse(argc, argv, &a);
    if (rc)
        return rc < 0 ? VT_EXIT_OK : rc;
    vt_res r = a.rims ? vti_sim_gpu_rims(a.dir, a.rim_driver, a.rims) : vti_ok();
    if (!r.err && a.have_nonce)
        r = write_evidence(&a);
    if (r.err) {
        tool_err("sim gpu: %s", vt_strerror(r.err));
        return VT_EXIT_REJECTED;
    }
    return VT_EXIT_OK;
}
