/*
 * cmd_verify.c - `veritee verify FILE`: verify evidence (raw quote/report, sim evidence) or an
 * RA-TLS certificate (PEM or DER) with vt_verify(), print the report.
 *
 * Exit status: 0 verified, 1 rejected, 2 bad usage or unreadable input (FILE, --root-ca).
 */
#include <getopt.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"
#include "util/buf.h"
#include "util/codec.h"

#define MAX_ROOTS 8

static void verify_usage(FILE *f)
{
    fprintf(f,
            "usage: veritee verify FILE [--root-ca F]... [--collateral F|DIR] [--at TIME]\n"
            "                      [--json] [--explain] [--allow-null] [--verifier NAME]\n"
            "                      [--nonce HEX] [--report-data HEX] [--plugin-dir DIR]\n"
            "                      [--pccs URL] [--kds URL] [--cache-dir DIR]\n\n"
            "Verifies FILE: raw evidence (SGX/TDX quote, SNP report, sim evidence) or an RA-TLS\n"
            "certificate (PEM or DER, '-' for stdin), in which case the binding of the evidence\n"
            "to the certificate key is checked too.\n\n"
            "  --root-ca F      extra trust anchor(s), PEM (repeatable; up to %d). Sim evidence is\n"
            "                   trusted only with its root, e.g. SIMDIR/root-ca.pem\n"
            "  --collateral P   endorsements: a file or directory (Intel PCS/PCCS, AMD KDS)\n"
            "  --at TIME        verification time, RFC 3339 or Unix seconds (default: now)\n"
            "  --json           print the report as one JSON object\n"
            "  --explain        list every check in order with its result\n"
            "  --allow-null     accept null evidence (insecure, tests only)\n"
            "  --verifier NAME  use this verifier instead of choosing from the evidence\n"
            "  --nonce HEX      require this \"nonce\" claim in an RA-TLS certificate\n"
            "  --report-data HEX  expected report data (raw evidence, zero-padded to 64);\n"
            "                   az-snp-vtpm/az-tdx-vtpm: the nonce the TPM quote must carry\n"
            "  --plugin-dir D   load extra instances from D\n"
            "  --pccs URL       fetch Intel collateral from this PCCS/PCS (unless --collateral)\n"
            "  --kds URL        fetch AMD certificates from this KDS, e.g. https://kdsintf.amd.com\n"
            "  --cache-dir DIR  keep fetched collateral in DIR (reused until it expires)\n\n"
            "exit status: 0 verified, 1 rejected, 2 bad usage or unreadable input\n",
            MAX_ROOTS);
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
void vt_tool_print_report(const vt_report *rep, bool explain)
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

int vt_cmd_verify(int argc, char **argv)
{
    static const struct option lo[] = {
        { "root-ca", required_argument, NULL, 'r' },  { "collateral", required_argument, NULL, 'c' },
        { "at", required_argument, NULL, 't' },       { "json", no_argument, NULL, 'j' },
        { "explain", no_argument, NULL, 'e' },        { "allow-null", no_argument, NULL, 'n' },
        { "verifier", required_argument, NULL, 'v' }, { "nonce", required_argument, NULL, 'N' },
        { "plugin-dir", required_argument, NULL, 'p' }, { "help", no_argument, NULL, 'h' },
        { "pccs", required_argument, NULL, 'P' },     { "kds", required_argument, NULL, 'K' },
        { "cache-dir", required_argument, NULL, 'C' }, { "report-data", required_argument, NULL, 'D' },
        { NULL, 0, NULL, 0 },
    };
    const char *roots[MAX_ROOTS];
    const char *pccs = NULL, *kds = NULL, *cache_dir = NULL;
    struct vt_option fopts[4];
    struct vt_verify_opts o = { 0 };
    bool json = false, explain = false;
    struct vt_buf nonce = VT_BUF_INIT;
    static struct vt_buf rdata = VT_BUF_INIT; /* --report-data */
    int ch;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (ch) {
        case 'r':
            if (!vt_tool_add_root("verify", optarg, roots, &o.n_root_ca_files, MAX_ROOTS))
                return VT_EXIT_USAGE;
            break;
        case 'c':
            o.collateral = optarg;
            break;
        case 't':
            if (!vt_tool_time("verify", optarg, &o.at))
                return VT_EXIT_USAGE;
            break;
        case 'j':
            json = true;
            break;
        case 'e':
            explain = true;
            break;
        case 'n':
            o.allow_null = true;
            break;
        case 'v':
            o.verifier = optarg;
            break;
        case 'N':
            if (!vt_tool_nonce("verify", optarg, &nonce))
                return VT_EXIT_USAGE;
            break;
        case 'D':
            if (!vt_tool_nonce("verify", optarg, &rdata))
                return VT_EXIT_USAGE;
            o.report_data = rdata.p;
            o.report_data_len = rdata.len;
            break;
        case 'p':
            o.plugin_dir = optarg;
            break;
        case 'P':
            pccs = optarg;
            break;
        case 'K':
            kds = optarg;
            break;
        case 'C':
            cache_dir = optarg;
            break;
        case 'h':
            verify_usage(stdout);
            return VT_EXIT_OK;
        default:
            vt_tool_err("verify: unknown or incomplete option '%s'", argv[optind - 1]);
            verify_usage(stderr);
            return VT_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        vt_tool_err("verify: need exactly one FILE");
        verify_usage(stderr);
        vt_buf_free(&nonce);
        return VT_EXIT_USAGE;
    }
    o.root_ca_files = roots;
    /* fetch options (the verifiers read them as intel.* / snp.* options) */
    if (pccs) {
        fopts[o.n_options++] = (struct vt_option){ "intel.pccs_url", pccs };
        if (cache_dir)
            fopts[o.n_options++] = (struct vt_option){ "intel.cache_dir", cache_dir };
    }
    if (kds) {
        fopts[o.n_options++] = (struct vt_option){ "snp.kds_url", kds };
        if (cache_dir)
            fopts[o.n_options++] = (struct vt_option){ "snp.cache_dir", cache_dir };
    }
    o.options = fopts;
    /* Unreadable inputs are usage errors (exit 2), not rejections of the evidence (each
     * --root-ca was checked when it was parsed). */
    if (o.collateral && access(o.collateral, R_OK) != 0) {
        vt_tool_err("verify: cannot read --collateral %s: %s", o.collateral, strerror(errno));
        vt_buf_free(&nonce);
        return VT_EXIT_USAGE;
    }
    if (nonce.len) {
        o.nonce = nonce.p;
        o.nonce_len = nonce.len;
    }
    struct vt_buf in = VT_BUF_INIT;
    if (!vt_tool_read_input("verify", argv[optind], 16u << 20, &in)) {
        vt_buf_free(&nonce);
        return VT_EXIT_USAGE;
    }
    vt_report *rep = NULL;
    int rc = vt_verify(&o, in.p, in.len, &rep);
    vt_buf_free_nowipe(&in);
    vt_buf_free(&nonce);
    if (!rep) {
        vt_tool_err("verify: %s", vt_strerror(rc));
        return VT_EXIT_REJECTED;
    }
    if (json) {
        char *s = vt_report_to_json(rep, explain);
        if (s)
            printf("%s\n", s);
        free(s);
    } else {
        vt_tool_print_report(rep, explain);
    }
    vt_report_free(rep);
    return rc == VT_OK ? VT_EXIT_OK : VT_EXIT_REJECTED;
}
