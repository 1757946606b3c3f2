/* SPDX-License-Identifier: Apache-2.0 */
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

static void attest_usage(FILE *f)
{
    fprintf(f,
            "usage: veritee attest --tee NAME [--report-data HEX] [--sim-dir DIR]\n"
            "                      [--option NAME=VALUE]... -o FILE [--endorsements-out FILE]\n\n"
            "Collects evidence from the attester NAME (see 'veritee instances'; 'sim' needs a\n"
            "directory from 'veritee sim init') and writes the raw evidence to FILE.\n\n"
            "  --report-data HEX   up to 64 bytes, zero-padded on the right (default: zeros)\n"
            "  --sim-dir DIR       sim TEE directory (default: $VERITEE_SIM_DIR)\n"
            "  --option N=V        attester option (repeatable), e.g. sim.measurement=<hex, up\n"
            "                      to 48 bytes> or, for sim-sgx / sim-tdx / sim-snp, sim.debug=1\n"
            "                      (set the debug bit), for sim-tdx sim.eventlog=FILE (RTMRs =\n"
            "                      the replay of that CCEL log); an option no instance reads is refused\n"
            "                      (options: 'veritee instances')\n"
            "  -o, --out FILE      where to write the evidence\n"
            "  --endorsements-out F  also write endorsements, if the attester returns any\n\n"
            "exit status: 0 written, 1 attestation failed, 2 bad usage\n");
}

struct attest_opts {
    struct tool_attester a;
    uint8_t rd[64];
    const char *out, *eout;
};

static const struct vt_arg attest_args[] = {
    VT_ARGS_ATTESTER(struct attest_opts, a),
    VT_ARG("report-data", 0, VT_ARG_REPORT_DATA, struct attest_opts, rd),
    VT_ARG("out", 'o', VT_ARG_STR, struct attest_opts, out),
    VT_ARG("endorsements-out", 0, VT_ARG_STR, struct attest_opts, eout),
};
static const struct vt_cmd_spec attest_spec = { "attest", attest_usage, attest_args,
                                                 VT_ARRAY_LEN(attest_args) };

/* Exit status for an attester failure: a sim directory or option problem is bad usage. */
static int collect_exit(int err)
{
    return err == VT_ERR_SIM_NO_DIR || err == VT_ERR_SIM_MEASUREMENT || err == VT_ERR_SIM_DEBUG
               ? VT_EXIT_USAGE
               : VT_EXIT_REJECTED;
}

static int write_outputs(const struct attest_opts *o, const struct vt_buf *ev, const struct vt_buf *en)
{
    vt_res r = vti_file_write(o->out, ev->p, ev->len, 0644);
    if (r.err) {
        tool_err("attest: cannot write %s: %s", o->out, vt_strerror(r.err));
        return VT_EXIT_REJECTED;
    }
    if (o->eout) {
        r = vti_file_write(o->eout, en->p ? en->p : (const uint8_t *)"", en->len, 0644);
        if (r.err) {
            tool_err("attest: cannot write %s: %s", o->eout, vt_strerror(r.err));
            return VT_EXIT_REJECTED;
        }
    }
    return VT_EXIT_OK;
}

int cmd_attest(int argc, char **argv)
{
    struct attest_opts o = { 0 };
    int rc = tool_parse(&attest_spec, argc, argv, &o);
    if (rc != VT_TOOL_PARSED)
        return rc;
    if (!o.a.tee || !o.out || optind != argc) {
        tool_err("attest: --tee and -o are required");
        attest_usage(stderr);
        return VT_EXIT_USAGE;
    }
    tool_registry("attest", NULL);
    const struct vt_attester_ops *a;
    struct vti_attest_ctx actx;
    if (!tool_attester("attest", &o.a, &a, &actx))
        return VT_EXIT_USAGE;
    struct vt_buf ev = VT_BUF_INIT, en = VT_BUF_INIT;
    vt_res r = a->collect(&actx, o.rd, &ev, &en);
    if (r.err) {
        tool_err("attest: %s: %s", o.a.tee, vt_strerror(r.err));
        rc = collect_exit(r.err);
    } else {
        rc = write_outputs(&o, &ev, &en);
    }
    if (rc == VT_EXIT_OK)
        fprintf(stderr, "veritee: wrote %zu bytes of %s evidence to %s\n", ev.len, a->tee, o.out);
    vti_buf_free(&ev);
    vti_buf_free(&en);
    return rc;
}
