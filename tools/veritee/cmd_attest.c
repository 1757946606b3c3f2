/*
 * cmd_attest.c - `veritee attest --tee NAME -o FILE`: collect raw evidence from an attester
 * over caller-chosen report data and write it to FILE.
 *
 * Exit status: 0 written, 1 the attester failed, 2 bad usage.
 */
#include <getopt.h>
#include <stdlib.h>

#include "core/instance.h"
#include "tool.h"

#define MAX_OPTIONS 16

static void attest_usage(FILE *f)
{
    fprintf(f,
            "usage: veritee attest --tee NAME [--report-data HEX] [--sim-dir DIR]\n"
            "                      [--option NAME=VALUE]... -o FILE [--endorsements-out FILE]\n\n"
            "Collects evidence from the attester NAME (see 'veritee instances'; 'sim' needs a\n"
            "directory from 'veritee sim init') and writes the raw evidence to FILE.\n\n"
            "  --report-data HEX   up to 64 bytes, zero-padded on the right (default: zeros)\n"
            "  --sim-dir DIR       sim TEE directory (default: $VERITEE_SIM_DIR)\n"
            "  --option N=V        attester option, e.g. sim.measurement=<hex, up to 48 bytes>\n"
            "  -o, --out FILE      where to write the evidence\n"
            "  --endorsements-out F  also write endorsements, if the attester returns any\n\n"
            "exit status: 0 written, 1 attestation failed, 2 bad usage\n");
}

int vt_cmd_attest(int argc, char **argv)
{
    static const struct option lo[] = {
        { "tee", required_argument, NULL, 't' },     { "report-data", required_argument, NULL, 'd' },
        { "sim-dir", required_argument, NULL, 's' }, { "option", required_argument, NULL, 'O' },
        { "out", required_argument, NULL, 'o' },     { "endorsements-out", required_argument, NULL, 'E' },
        { "help", no_argument, NULL, 'h' },          { NULL, 0, NULL, 0 },
    };
    const char *tee = NULL, *out = NULL, *eout = NULL;
    struct vti_attest_ctx actx = { 0 };
    struct vt_option opts[MAX_OPTIONS];
    uint8_t rd[64] = { 0 };
    int ch;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "o:h", lo, NULL)) != -1) {
        switch (ch) {
        case 't':
            tee = optarg;
            break;
        case 'd':
            if (!vt_tool_report_data("attest", optarg, rd))
                return VT_EXIT_USAGE;
            break;
        case 's':
            actx.sim_dir = optarg;
            break;
        case 'O':
            if (!vt_tool_add_option("attest", optarg, opts, &actx.n_options, MAX_OPTIONS))
                return VT_EXIT_USAGE;
            break;
        case 'o':
            out = optarg;
            break;
        case 'E':
            eout = optarg;
            break;
        case 'h':
            attest_usage(stdout);
            return VT_EXIT_OK;
        default:
            vt_tool_err("attest: unknown or incomplete option '%s'", argv[optind - 1]);
            attest_usage(stderr);
            return VT_EXIT_USAGE;
        }
    }
    if (!tee || !out || optind != argc) {
        vt_tool_err("attest: --tee and -o are required");
        attest_usage(stderr);
        return VT_EXIT_USAGE;
    }
    actx.options = opts;
    actx.sim_dir = vt_tool_sim_dir(actx.sim_dir);
    vt_res r = vti_registry_init(NULL);
    if (r.err)
        vt_tool_err("attest: plug-in loading: %s", vt_strerror(r.err));
    const struct vt_instance_hdr *h;
    if (vti_instance_find(VT_KIND_ATTESTER, tee, &h).err) {
        vt_tool_err("attest: no attester '%s' (see 'veritee instances')", tee);
        return VT_EXIT_USAGE;
    }
    const struct vt_attester_ops *a = (const struct vt_attester_ops *)h;
    struct vt_buf ev = VT_BUF_INIT, en = VT_BUF_INIT;
    r = a->collect(&actx, rd, &ev, &en);
    if (r.err) {
        vt_tool_err("attest: %s: %s", tee, vt_strerror(r.err));
        vt_buf_free(&ev);
        vt_buf_free(&en);
        return r.err == VT_ERR_SIM_NO_DIR || r.err == VT_ERR_SIM_MEASUREMENT ? VT_EXIT_USAGE
                                                                             : VT_EXIT_REJECTED;
    }
    int rc = VT_EXIT_OK;
    r = vt_file_write(out, ev.p, ev.len, 0644);
    if (r.err) {
        vt_tool_err("attest: cannot write %s: %s", out, vt_strerror(r.err));
        rc = VT_EXIT_REJECTED;
    } else if (eout) {
        r = vt_file_write(eout, en.p ? en.p : (const uint8_t *)"", en.len, 0644);
        if (r.err) {
            vt_tool_err("attest: cannot write %s: %s", eout, vt_strerror(r.err));
            rc = VT_EXIT_REJECTED;
        }
    }
    if (!rc)
        fprintf(stderr, "veritee: wrote %zu bytes of %s evidence to %s\n", ev.len, a->tee, out);
    vt_buf_free(&ev);
    vt_buf_free(&en);
    return rc;
}
