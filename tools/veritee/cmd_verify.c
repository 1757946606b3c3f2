/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_verify.c - `veritee verify FILE`: verify evidence (raw quote/report, sim evidence) or an
 * RA-TLS certificate (PEM or DER) with vt_verify(), print the report.
 *
 * --expect NAME=VALUE (repeatable): after the evidence verified, the claim NAME must exist and
 * render as VALUE (bytes: hex, case-insensitive; booleans true/false; integers in decimal;
 * string lists comma-joined); the first that differs or is missing is named and the exit status
 * is 1. --expect tpm.ak_sha256=HEX also pins the TPM attestation key for the tpm verifier
 * (option tpm.ak_sha256), so evidence without an AK certificate can be trusted by its key.
 *
 * Exit status: 0 verified, 1 rejected, 2 bad usage or unreadable input (FILE, --root-ca).
 */
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "tool.h"
#include "util/buf.h"
#include "util/codec.h"

#define MAX_ROOTS VT_TOOL_MAX_ROOTS
#define MAX_EXPECT 32

static void verify_usage(FILE *f)
{
    fprintf(f,
            "usage: veritee verify FILE [--root-ca F]... [--collateral F|DIR] [--at TIME]\n"
            "                      [--json] [--explain] [--allow-null] [--verifier NAME]\n"
            "                      [--nonce HEX] [--report-data HEX] [--plugin-dir DIR]\n"
            "                      [--pccs URL] [--kds URL] [--cache-dir DIR]\n"
            "                      [--eventlog FILE [--allow-sha1-log]] [--expect CLAIM=VALUE]...\n\n"
            "Verifies FILE: raw evidence (SGX/TDX quote, SNP report, Azure vTPM evidence JSON\n"
            "az-snp-vtpm / az-tdx-vtpm, NVIDIA GPU device evidence JSON nvidia, plain TPM\n"
            "evidence JSON tpm, sim evidence) or an RA-TLS certificate (PEM or DER, '-' for\n"
            "stdin), in which case the binding of the evidence to the certificate key is\n"
            "checked too.\n\n"
            "  --root-ca F      extra trust anchor(s), PEM (repeatable; up to %d). Sim evidence is\n"
            "                   trusted only with its root, e.g. SIMDIR/root-ca.pem; tpm: the AK\n"
            "                   certificate's root (PEM or DER)\n"
            "  --collateral P   endorsements: a file or directory (Intel PCS/PCCS, AMD KDS;\n"
            "                   nvidia: OCSP responses for the device chains; tpm: the AK\n"
            "                   certificate's intermediates, found by content)\n"
            "  --at TIME        verification time, RFC 3339 or Unix seconds (default: now)\n"
            "  --json           print the report as one JSON object\n"
            "  --explain        list every check in order with its result\n"
            "  --allow-null     accept null evidence (insecure, tests only)\n"
            "  --verifier NAME  use this verifier instead of choosing from the evidence\n"
            "  --nonce HEX      require this \"nonce\" claim in an RA-TLS certificate\n"
            "  --report-data HEX  expected report data (raw evidence, zero-padded to 64);\n"
            "                   az-snp-vtpm/az-tdx-vtpm/tpm: the nonce the TPM quote must carry;\n"
            "                   nvidia: the 32-byte nonce every GPU's SPDM request must carry\n"
            "  --plugin-dir D   load extra instances from D\n"
            "  --pccs URL       fetch Intel collateral from this PCCS/PCS (unless --collateral)\n"
            "  --kds URL        fetch AMD certificates from this KDS, e.g. https://kdsintf.amd.com\n"
            "  --cache-dir DIR  keep fetched collateral in DIR (reused until it expires)\n"
            "  --eventlog FILE  after the evidence verifies, replay this TCG (PCRs: pcr.N\n"
            "                   claims) or CCEL (TD quote RTMRs) event log against it; every\n"
            "                   register the log touches must match (else exit 1, naming it);\n"
            "                   adds the eventlog.* claims (docs/eventlog.md)\n"
            "  --allow-sha1-log accept a SHA-1-only (TCG 1.2) event log (--eventlog, or the\n"
            "                   event_log of tpm evidence)\n"
            "  --expect CLAIM=VALUE  after verification the claim must equal VALUE (bytes as hex,\n"
            "                   true/false, decimal, text; repeatable, up to %d), else exit 1\n"
            "                   naming the first that differs or is missing;\n"
            "                   tpm.ak_sha256=HEX also pins the tpm attestation key: SHA-256 of\n"
            "                   its DER SubjectPublicKeyInfo (docs/tpm.md)\n\n"
            "exit status: 0 verified, 1 rejected, 2 bad usage or unreadable input\n",
            MAX_ROOTS, MAX_EXPECT);
}

static void print_claim(const struct vt_claim *c)
{
    printf("  %s: ", c->name);
    switch (c->type) {
    case VT_CLAIM_BOOL:
        printf("%s\n", c->b ? "true" : "false");
        break;
    case VT_CLAIM_INT:
        printf("%lld\n", (long long)c->i);
        break;
    case VT_CLAIM_STRING:
        printf("%s\n", c->s);
        break;
    case VT_CLAIM_BYTES:
        for (size_t i = 0; i < c->n; i++)
            printf("%02x", c->p[i]);
        printf("\n");
        break;
    case VT_CLAIM_STRLIST:
        for (size_t i = 0; i < c->n; i++)
            printf("%s%s", i ? ", " : "", c->list[i]);
        printf("\n");
        break;
    }
}

/* Text rendering of a report (declared in tool.h: `cert show` uses it too). */
void tool_print_report(const vt_report *rep, bool explain)
{
    bool ok = vt_report_verified(rep);
    printf("verified: %s\n", ok ? "yes" : "no");
    const char *tee = vt_report_tee(rep);
    printf("tee: %s%s\n", tee && *tee ? tee : "(unknown)",
           vt_report_insecure(rep) ? " (INSECURE: simulated or null evidence)" : "");
    if (vt_report_tcb_status(rep))
        printf("tcb_status: %s\n", vt_report_tcb_status(rep));
    if (!ok)
        printf("error: %s: %s\n", vt_errname(vt_report_error(rep)), vt_report_error_message(rep));
    const vt_claims *cl = vt_report_claims(rep);
    if (vt_claims_count(cl)) {
        printf("claims:\n");
        for (size_t i = 0; i < vt_claims_count(cl); i++)
            print_claim(vt_claims_at(cl, i));
    }
    if (explain) {
        printf("checks:\n");
        for (size_t i = 0; i < vt_report_step_count(rep); i++) {
            const struct vt_step *s = vt_report_step(rep, i);
            /* Steps often end with their own verdict ("...: ok", "...: invalid"); do not
             * repeat an "ok", and make a failure stand out whatever the text says. */
            size_t tl = strlen(s->text);
            bool says_ok = tl >= 4 && strcmp(s->text + tl - 4, ": ok") == 0;
            if (s->result == 1)
                printf("  %s%s\n", s->text, says_ok ? "" : ": ok");
            else if (s->result == 0)
                printf("  %s: FAILED\n", s->text);
            else
                printf("  %s (info)\n", s->text);
        }
    }
}

struct verify_opts {
    struct vt_tool_verify v;
    bool json, explain;
    const char *verifier, *plugin_dir, *pccs, *kds, *cache_dir, *eventlog;
    bool allow_sha1_log;
    struct vt_buf nonce, report_data;
    /* intel.* / snp.* options made from --pccs, --kds, --cache-dir; tpm.ak_sha256 from
     * --expect, tpm.allow_sha1_log from --allow-sha1-log */
    struct vt_option fetch[6];
    const char *expect[MAX_EXPECT];
    size_t n_expect;
    char pins[MAX_EXPECT * 65];
};

static const struct vt_arg verify_args[] = {
    VT_ARGS_VERIFY(struct verify_opts, v),
    VT_ARG("json", 0, VT_ARG_FLAG, struct verify_opts, json),
    VT_ARG("explain", 0, VT_ARG_FLAG, struct verify_opts, explain),
    VT_ARG("verifier", 0, VT_ARG_STR, struct verify_opts, v.o.verifier),
    VT_ARG("nonce", 0, VT_ARG_NONCE, struct verify_opts, nonce),
    VT_ARG("report-data", 0, VT_ARG_NONCE, struct verify_opts, report_data),
    VT_ARG("plugin-dir", 0, VT_ARG_STR, struct verify_opts, v.o.plugin_dir),
    VT_ARG("pccs", 0, VT_ARG_STR, struct verify_opts, pccs),
    VT_ARG("kds", 0, VT_ARG_STR, struct verify_opts, kds),
    VT_ARG("cache-dir", 0, VT_ARG_STR, struct verify_opts, cache_dir),
    VT_ARG("eventlog", 0, VT_ARG_STR, struct verify_opts, eventlog),
    VT_ARG("allow-sha1-log", 0, VT_ARG_FLAG, struct verify_opts, allow_sha1_log),
    VT_ARG_LIST("expect", VT_ARG_STRLIST, struct verify_opts, expect, n_expect, MAX_EXPECT),
};
static const struct vt_cmd_spec verify_spec = { "verify", verify_usage, verify_args,
                                                VT_ARRAY_LEN(verify_args) };

/* --expect: each NAME=VALUE with a non-empty NAME; the tpm.ak_sha256 values (comma-joined)
 * become the tpm verifier's pin option. False after a message. */
static bool expect_settings(struct verify_opts *o, size_t *n)
{
    size_t used = 0;
    for (size_t i = 0; i < o->n_expect; i++) {
        const char *eq = strchr(o->expect[i], '=');
        if (!eq || eq == o->expect[i]) {
            tool_err("verify: --expect %s: want CLAIM=VALUE", o->expect[i]);
            return false;
        }
        if (strncmp(o->expect[i], "tpm.ak_sha256=", 14) != 0)
            continue;
        int w = snprintf(o->pins + used, sizeof(o->pins) - used, "%s%s", used ? "," : "", eq + 1);
        if (w < 0 || (size_t)w >= sizeof(o->pins) - used) {
            tool_err("verify: --expect tpm.ak_sha256: too long");
            return false;
        }
        used += (size_t)w;
    }
    if (used)
        o->fetch[(*n)++] = (struct vt_option){ "tpm.ak_sha256", o->pins };
    return true;
}

/* Fill o->v.o from the parsed options: roots, nonce, and the fetch options (the verifiers read
 * them as intel.* / snp.* options). False after a message for an unreadable --collateral
 * (a usage error, exit 2, not a rejection of the evidence; each --root-ca was checked when
 * it was parsed). */
static bool verify_settings(struct verify_opts *o)
{
    struct vt_verify_opts *v = &o->v.o;
    v->root_ca_files = o->v.roots;
    size_t n = 0;
    if (o->pccs) {
        o->fetch[n++] = (struct vt_option){ "intel.pccs_url", o->pccs };
        if (o->cache_dir)
            o->fetch[n++] = (struct vt_option){ "intel.cache_dir", o->cache_dir };
    }
    if (o->kds) {
        o->fetch[n++] = (struct vt_option){ "snp.kds_url", o->kds };
        if (o->cache_dir)
            o->fetch[n++] = (struct vt_option){ "snp.cache_dir", o->cache_dir };
    }
    if (!expect_settings(o, &n))
        return false;
    if (o->allow_sha1_log)
        o->fetch[n++] = (struct vt_option){ "tpm.allow_sha1_log", "1" };
    v->options = o->fetch;
    v->n_options = n;
    if (o->report_data.len) {
        v->report_data = o->report_data.p;
        v->report_data_len = o->report_data.len;
    }
    if (o->nonce.len) {
        v->nonce = o->nonce.p;
        v->nonce_len = o->nonce.len;
    }
    if (v->collateral && access(v->collateral, R_OK) != 0) {
        tool_err("verify: cannot read --collateral %s: %s", v->collateral, strerror(errno));
        return false;
    }
    return true;
}

static void print_result(const vt_report *rep, bool json, bool explain)
{
    if (json) {
        char *s = vt_report_to_json(rep, explain);
        if (s)
            printf("%s\n", s);
        free(s);
    } else {
        tool_print_report(rep, explain);
    }
}

/* --eventlog: the report and the event log's replay against it ("eventlog" in the JSON). */
static int print_with_eventlog(const struct verify_opts *o, const vt_report *rep)
{
    json_t *ev = NULL;
    int rc = tool_eventlog_against(rep, o->eventlog, o->allow_sha1_log, &ev);
    if (!ev)
        return rc;
    if (!o->json) {
        tool_print_report(rep, o->explain);
        tool_eventlog_print(ev);
    } else {
        char *s = vt_report_to_json(rep, o->explain);
        json_t *j = s ? json_loads(s, 0, NULL) : NULL;
        free(s);
        json_object_set(j, "eventlog", ev);
        s = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
        if (s)
            printf("%s\n", s);
        free(s);
        json_decref(j);
    }
    if (rc != VT_EXIT_OK)
        tool_err("verify: eventlog %s: %s%s%s", o->eventlog,
                 json_string_value(json_object_get(ev, "message")),
                 json_object_get(ev, "register") ? ": " : "",
                 json_object_get(ev, "register") ? json_string_value(json_object_get(ev, "register")) : "");
    json_decref(ev);
    return rc;
}

/* The claim rendered as --expect compares it (into b, NUL-terminated); false when it fails. */
static bool claim_text(const struct vt_claim *c, struct vt_buf *b)
{
    vt_res r = vti_ok();
    switch (c->type) {
    case VT_CLAIM_BOOL:
        r = vti_buf_printf(b, "%s", c->b ? "true" : "false");
        break;
    case VT_CLAIM_INT:
        r = vti_buf_printf(b, "%lld", (long long)c->i);
        break;
    case VT_CLAIM_STRING:
        r = vti_buf_printf(b, "%s", c->s);
        break;
    case VT_CLAIM_BYTES:
        r = vti_hex_append(b, c->p, c->n);
        break;
    case VT_CLAIM_STRLIST:
        for (size_t i = 0; !r.err && i < c->n; i++)
            r = vti_buf_printf(b, "%s%s", i ? "," : "", c->list[i]);
        break;
    }
    return !r.err && !vti_buf_cstr(b).err;
}

/* --expect after a verified report: VT_EXIT_OK, or VT_EXIT_REJECTED naming the first claim
 * that differs or is missing. */
static int check_expect(const struct verify_opts *o, const vt_report *rep)
{
    for (size_t i = 0; i < o->n_expect; i++) {
        const char *eq = strchr(o->expect[i], '=');
        char name[128];
        snprintf(name, sizeof(name), "%.*s", (int)(eq - o->expect[i]), o->expect[i]);
        const struct vt_claim *c = vt_claims_get(vt_report_claims(rep), name);
        if (!c) {
            tool_err("verify: --expect %s: no such claim", name);
            return VT_EXIT_REJECTED;
        }
        struct vt_buf b = VT_BUF_INIT;
        bool ok = claim_text(c, &b);
        bool same = ok && (c->type == VT_CLAIM_BYTES ? strcasecmp((const char *)b.p, eq + 1) == 0
                                                     : strcmp((const char *)b.p, eq + 1) == 0);
        if (!same)
            tool_err("verify: --expect %s: the claim is %s, expected %s", name,
                     ok ? (const char *)b.p : "(unprintable)", eq + 1);
        vti_buf_free_nowipe(&b);
        if (!same)
            return VT_EXIT_REJECTED;
    }
    return VT_EXIT_OK;
}

/* Read FILE, verify it, print the report. */
static int verify_file(const struct verify_opts *o, const char *file)
{
    struct vt_buf in = VT_BUF_INIT;
    if (!tool_read_input("verify", file, 16u << 20, &in))
        return VT_EXIT_USAGE;
    vt_report *rep = NULL;
    int rc = vt_verify(&o->v.o, in.p, in.len, &rep);
    vti_buf_free_nowipe(&in);
    if (!rep) {
        tool_err("verify: %s", vt_strerror(rc));
        return VT_EXIT_REJECTED;
    }
    int exit_rc = rc == VT_OK ? VT_EXIT_OK : VT_EXIT_REJECTED;
    if (o->eventlog && rc == VT_OK)
        exit_rc = print_with_eventlog(o, rep);
    else
        print_result(rep, o->json, o->explain);
    if (exit_rc == VT_EXIT_OK)
        exit_rc = check_expect(o, rep);
    vt_report_free(rep);
    return exit_rc;
}

int cmd_verify(int argc, char **argv)
{
    struct verify_opts o = { .nonce = VT_BUF_INIT, .report_data = VT_BUF_INIT };
    int rc = tool_parse(&verify_spec, argc, argv, &o);
    if (rc == VT_TOOL_PARSED && optind != argc - 1) {
        tool_err("verify: need exactly one FILE");
        verify_usage(stderr);
        rc = VT_EXIT_USAGE;
    }
    if (rc == VT_TOOL_PARSED)
        rc = verify_settings(&o) ? verify_file(&o, argv[optind]) : VT_EXIT_USAGE;
    vti_buf_free(&o.nonce);
    vti_buf_free(&o.report_data);
    return rc;
}
