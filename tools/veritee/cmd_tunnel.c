/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_tunnel.c - `veritee tunnel ingress|egress`: the attested tunnel for applications that do
 * not link the library. Options, checks and the attested TLS context; the event loop is
 * tunnel.c. Same certificates, verifiers and trust anchors as tls-server / tls-client; there is
 * no plaintext fallback: a peer that does not verify and meet every --expect is refused.
 *
 * Exit status: 0 ok, 1 start-up failed (or, with --max-conns, a connection failed), 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto/hostport.h"
#include "proto/tunnel.h"
#include "tool.h"
#include "tunnel.h"

#define TUN_MAX_ROOTS 16
#define TUN_MAX_EXPECT 16

struct tun_opts {
    struct tool_attester a;
    const char *listen, *to;
    const char *roots[TUN_MAX_ROOTS];
    size_t n_roots;
    const char *expect_args[TUN_MAX_EXPECT];
    size_t n_expect;
    bool mutual;
    bool http_proxy, socks5;
    enum vt_key_type key_type;
    const char *tls, *crypto, *collateral, *plugin_dir;
    long max_parallel, max_conns, timeout, idle_timeout;
    long cert_lifetime, max_evidence_age;
    const char *policy, *claims_header, *metrics;
};

static void ingress_usage(FILE *f);
static void egress_usage(FILE *f);

#define TUN_ARG(name, type, field) VT_ARG(name, 0, type, struct tun_opts, field)
#define TUN_LONG(name, field, lo, hi, bad) \
    { name, 0, VT_ARG_LONG, offsetof(struct tun_opts, field), 0, lo, hi, bad }
#define TUN_COMMON_ARGS                                                                       \
    VT_ARGS_ATTESTER(struct tun_opts, a), TUN_ARG("listen", VT_ARG_STR, listen),              \
    TUN_ARG("to", VT_ARG_STR, to),                                                            \
    VT_ARG_LIST("root-ca", VT_ARG_ROOT, struct tun_opts, roots, n_roots, TUN_MAX_ROOTS),     \
    VT_ARG_LIST("expect", VT_ARG_STRLIST, struct tun_opts, expect_args, n_expect,            \
                TUN_MAX_EXPECT),                                                              \
    TUN_ARG("tls", VT_ARG_STR, tls), TUN_ARG("crypto", VT_ARG_STR, crypto),                   \
    TUN_ARG("collateral", VT_ARG_STR, collateral), TUN_ARG("plugin-dir", VT_ARG_STR, plugin_dir), \
    TUN_ARG("key-type", VT_ARG_KEY_TYPE, key_type),                                           \
    TUN_LONG("max-parallel", max_parallel, 1, 65536, "--max-parallel: want 1..65536"),       \
    TUN_LONG("max-conns", max_conns, 1, 1000000000L, "--max-conns: want a positive number"), \
    TUN_LONG("timeout", timeout, 0, 86400, "--timeout: want seconds (0 = none)"),           \
    TUN_LONG("idle-timeout", idle_timeout, 0, 864000, "--idle-timeout: want seconds (0 = none)"), \
    TUN_LONG("cert-lifetime", cert_lifetime, 0, 31536000, "--cert-lifetime: want seconds (0 = never)"), \
    TUN_LONG("max-evidence-age", max_evidence_age, 0, 31536000,                              \
             "--max-evidence-age: want seconds (0 = not checked)"),                           \
    TUN_ARG("policy", VT_ARG_STR, policy), TUN_ARG("metrics", VT_ARG_STR, metrics)

static const struct vt_arg ingress_args[] = { TUN_COMMON_ARGS,
                                              TUN_ARG("http-proxy", VT_ARG_FLAG, http_proxy),
                                              TUN_ARG("socks5", VT_ARG_FLAG, socks5) };
static const struct vt_arg egress_args[] = { TUN_COMMON_ARGS, TUN_ARG("mutual", VT_ARG_FLAG, mutual),
                                             TUN_ARG("claims-header", VT_ARG_STR, claims_header) };
static const struct vt_cmd_spec ingress_spec = { "tunnel ingress", ingress_usage, ingress_args,
                                                 VT_ARRAY_LEN(ingress_args) };
static const struct vt_cmd_spec egress_spec = { "tunnel egress", egress_usage, egress_args,
                                                VT_ARRAY_LEN(egress_args) };

#define TUN_LIMITS_HELP                                                                          \
    "  --max-parallel N    connections open at once (default 1024); more are refused and logged\n" \
    "  --max-conns N       exit after N connections (exit 1 if any failed or was refused)\n"     \
    "  --timeout SECS      deadline to connect, handshake and appraise (default 30, 0 = none)\n" \
    "  --idle-timeout SECS close a relay with no byte either way for SECS (default 600, 0 = none)\n" \
    "  --cert-lifetime SECS when this side attests: a new certificate with fresh evidence every\n" \
    "                      SECS (default 600, 0 = never); its claims carry iat (the time made)\n" \
    "  --max-evidence-age SECS  refuse a peer whose certificate's claim iat is older (or\n"    \
    "                      absent: other RA-TLS peers lack it); default 0 = not checked\n"     \
    "  --policy FILE       appraise the peer's verified evidence with rules in the broker's\n" \
    "                      policy format too (docs/broker.md); the resource path a rule must\n" \
    "                      match is tunnel/ingress|egress/HOST_PORT (the destination, ':' as\n" \
    "                      '_'); \"reference\" conditions are refused (no reference values here);\n" \
    "                      a refusal names the rule. Egress: with --mutual\n"                   \
    "  --metrics HOST:PORT serve GET /metrics (Prometheus text): connections accepted,\n"      \
    "                      verified, refused by reason, failed, open; bytes each way\n"         \
    "  --config FILE       options from FILE, one 'name = value' (or flag 'name') a line, '#'\n" \
    "                      comments; command-line options come after them (see docs/tunnel.md)\n" \
    "  --tls NAME, --crypto NAME, --plugin-dir DIR, --collateral F|DIR, --key-type T,\n"       \
    "  --option N=V        as for tls-server / tls-client\n\n"                                  \
    "Prints 'listening on HOST:PORT' when ready (port 0 picks one) and one line per connection\n" \
    "on stderr: peer, verdict or precise refusal (VT_ERR_* name and detail), bytes each way\n"   \
    "(c2s: from the connecting client, s2c: towards it). SIGINT/SIGTERM stop it.\n"

#define TUN_EXPECT_HELP                                                                          \
    "  --expect CLAIM=VALUE  the verified peer's claim must have this value (repeatable; all\n"  \
    "                    must hold): bool true|false, integer, string, bytes as hex, a list\n"   \
    "                    member; 'tee' and 'tcb_status' too. E.g. measurement=HEX, mr_td=HEX,\n" \
    "                    tcb_status=UpToDate, debug=false\n"

static void ingress_usage(FILE *f)
{
    fprintf(f,
        "usage: veritee tunnel ingress --listen HOST:PORT (--to HOST:PORT | --http-proxy | --socks5)\n"
        "                              [--root-ca F]...\n"
        "                              [--expect CLAIM=VALUE]... [--policy FILE]\n"
        "                              [--tee NAME [--sim-dir DIR]] [--metrics HOST:PORT]\n"
        "                              [limits and backend options, below]\n\n"
        "Beside the client application: accepts plain TCP on --listen, opens attested TLS 1.3\n"
        "to the egress at --to, verifies its evidence (bound to its TLS key) and appraises it\n"
        "(--expect); only then relays bytes both ways. A refused egress never gets a byte.\n\n"
        "  --listen HOST:PORT  where local clients connect (plain TCP)\n"
        "  --to HOST:PORT      the egress (veritee tunnel egress): port mapping\n"
        "  --http-proxy        instead of --to: an HTTP proxy; the egress is the HOST:PORT of a\n"
        "                      'CONNECT HOST:PORT' request, or of an absolute-form request\n"
        "                      ('GET http://HOST:PORT/path', re-sent as 'GET /path'; only the\n"
        "                      first request of a connection is rewritten); curl -x\n"
        "  --socks5            instead of --to: a SOCKS5 proxy (no authentication, CONNECT);\n"
        "                      curl --socks5. Names are looked up by resolver threads (the\n"
        "                      loop goes on meanwhile) within --timeout\n"
        "  --root-ca F         extra trust anchor, PEM (repeatable); sim evidence is trusted only\n"
        "                      with its root, e.g. DIR/root-ca.pem\n"
        TUN_EXPECT_HELP
        "  --tee NAME          attest this side too (for an egress with --mutual): sim, tdx, ...\n"
        "  --sim-dir DIR       the sim TEE's PKI (with --tee sim*); or $VERITEE_SIM_DIR\n"
        TUN_LIMITS_HELP);
}

static void egress_usage(FILE *f)
{
    fprintf(f,
        "usage: veritee tunnel egress --listen HOST:PORT --to HOST:PORT [--tee NAME]\n"
        "                             [--sim-dir DIR] [--mutual [--root-ca F]...\n"
        "                             [--expect CLAIM=VALUE]... [--policy FILE]\n"
        "                             [--claims-header NAME]] [limits and backend options]\n\n"
        "Beside the server application, in the TEE: accepts attested TLS 1.3 on --listen (its\n"
        "certificate carries this TEE's evidence), with --mutual verifies and appraises the\n"
        "client's evidence, and only then connects to the application at --to and relays the\n"
        "plaintext both ways.\n\n"
        "  --listen HOST:PORT  where ingresses connect (attested TLS)\n"
        "  --to HOST:PORT      the application (plain TCP)\n"
        "  --tee NAME          attester: sgx, tdx, snp, sim, ...; default: the detected TEE\n"
        "  --sim-dir DIR       the sim TEE's PKI (from 'veritee sim init DIR'); or $VERITEE_SIM_DIR\n"
        "  --mutual            require and verify the client's evidence\n"
        "  --root-ca F         with --mutual: extra trust anchor for client evidence (repeatable)\n"
        "  --claims-header NAME  with --mutual, for an HTTP/1.x application: every request\n"
        "                      from the client gets the header 'NAME: CLAIMS' (the verified\n"
        "                      client's report as one line of JSON) and loses any header of\n"
        "                      that name the client sent; requests the egress cannot delimit\n"
        "                      safely (CONNECT, Upgrade, HTTP/2, ambiguous framing, trailers)\n"
        "                      end the connection (docs/tunnel.md)\n"
        TUN_EXPECT_HELP
        "                      (with --mutual: of the client)\n"
        TUN_LIMITS_HELP);
}

/* Resolve --to once: the first address it names. false after a message. */
static bool resolve_to(const char *cmd, const char *to, struct tun_cfg *cfg)
{
    struct vtp_hostport hp;
    vt_res r = vtp_hostport_parse(to, &hp);
    if (r.err || !hp.host[0] || hp.port == 0) {
        tool_err("%s: --to: want HOST:PORT, got '%s' (%s)", cmd, to,
                 vt_strerror(r.err ? r.err : hp.host[0] ? VT_ERR_PROTO_ADDR_PORT : VT_ERR_PROTO_ADDR_HOST));
        return false;
    }
    char port[8];
    snprintf(port, sizeof(port), "%u", hp.port);
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
    int gr = getaddrinfo(hp.host, port, &hints, &res);
    if (gr != 0 || !res) {
        tool_err("%s: --to %s: %s", cmd, to, gai_strerror(gr));
        return false;
    }
    memcpy(&cfg->to, res->ai_addr, res->ai_addrlen);
    cfg->to_len = res->ai_addrlen;
    freeaddrinfo(res);
    cfg->to_text = to;
    return true;
}

/* A rule with a "reference" condition: the tunnel has no reference values to meet it. */
static bool uses_reference(const char *doc)
{
    json_t *j = json_loads(doc, 0, NULL);
    json_t *rules = json_object_get(j, "rules");
    bool ref = false;
    for (size_t i = 0; i < json_array_size(rules); i++)
        ref |= json_object_get(json_array_get(rules, i), "reference") != NULL;
    json_decref(j);
    return ref;
}

/* --policy FILE: checked and compiled once (the broker's parser). 0, or the exit status. */
static int load_policy(const char *cmd, const char *path, struct vtb_snapshot **snap)
{
    struct vt_buf b = VT_BUF_INIT;
    char why[300] = "";
    if (!tool_read_input(cmd, path, 1 << 20, &b))
        return VT_EXIT_USAGE;
    int rc = 0;
    vt_res r = vti_buf_append(&b, "", 1);
    if (!r.err)
        r = vtb_policy_check((const char *)b.p, why, sizeof(why));
    if (!r.err && uses_reference((const char *)b.p)) {
        r = VT_FAIL(VT_ERR_TUNNEL_POLICY);
        snprintf(why, sizeof(why), "a rule has \"reference\" conditions: the tunnel has no "
                 "reference values (name the values in \"claims\" or use --expect)");
    }
    if (!r.err)
        r = vtb_snapshot_new((const char *)b.p, NULL, 0, snap);
    if (r.err) {
        tool_err("%s: --policy %s: %s (%s)", cmd, path, why[0] ? why : vt_strerror(r.err),
                 vt_errname(r.err));
        rc = VT_EXIT_USAGE;
    }
    vti_buf_free(&b);
    return rc;
}

/* --metrics HOST:PORT: its listening socket into cfg. false after a message. */
static bool metrics_listen(const char *cmd, const char *addr, struct tun_cfg *cfg)
{
    char shown[160], why[160] = "";
    vt_res r = vtp_tcp_listen(addr, &cfg->metrics_fd, shown, sizeof(shown), why, sizeof(why));
    if (r.err) {
        tool_err("%s: --metrics %s: %s (%s)", cmd, addr, why[0] ? why : vt_strerror(r.err),
                 vt_errname(VT_ERR_TUNNEL_METRICS));
        cfg->metrics_fd = -1;
        return false;
    }
    fprintf(stderr, "metrics on http://%s/metrics\n", shown);
    return true;
}

/* The option checks after parsing. 0 ok, else the exit status. */
static int check_opts(const char *cmd, int argc, char **argv, bool egress, const struct tun_opts *o,
                      struct vtp_expect *ex)
{
    if (optind != argc) {
        tool_err("%s: unexpected argument '%s'", cmd, argv[optind]);
        return VT_EXIT_USAGE;
    }
    int modes = (o->to != NULL) + o->http_proxy + o->socks5;
    if (!o->listen || modes != 1) {
        tool_err("%s: --listen HOST:PORT and %s are required", cmd,
                 egress ? "--to HOST:PORT" : "one of --to HOST:PORT, --http-proxy, --socks5");
        return VT_EXIT_USAGE;
    }
    if (egress && !o->mutual &&
        (o->n_expect || o->n_roots || o->max_evidence_age || o->policy || o->claims_header)) {
        tool_err("%s: --expect, --root-ca, --max-evidence-age, --policy and --claims-header "
                 "concern the client's evidence: use them with --mutual", cmd);
        return VT_EXIT_USAGE;
    }
    if (o->claims_header && vtp_http_field_name_check(o->claims_header).err) {
        tool_err("%s: --claims-header '%s': %s (%s)", cmd, o->claims_header,
                 vt_strerror(VT_ERR_TUNNEL_HDR_NAME), vt_errname(VT_ERR_TUNNEL_HDR_NAME));
        return VT_EXIT_USAGE;
    }
    for (size_t i = 0; i < o->n_expect; i++) {
        vt_res r = vtp_expect_parse(o->expect_args[i], &ex[i]);
        if (r.err) {
            tool_err("%s: --expect '%s': %s (%s)", cmd, o->expect_args[i], vt_strerror(r.err),
                     vt_errname(r.err));
            return VT_EXIT_USAGE;
        }
    }
    return 0;
}

static void fill_config(const struct tun_opts *o, bool egress, struct vt_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->role = egress ? VT_ROLE_SERVER : VT_ROLE_CLIENT;
    cfg->mutual = egress && o->mutual;
    cfg->tls = o->tls;
    cfg->crypto = o->crypto;
    cfg->key_type = o->key_type;
    cfg->root_ca_files = o->roots;
    cfg->n_root_ca_files = o->n_roots;
    cfg->collateral = o->collateral;
    cfg->sim_dir = o->a.sim_dir;
    cfg->plugin_dir = o->plugin_dir;
    cfg->attester = o->a.tee ? o->a.tee : egress ? NULL : "none";
    cfg->options = o->a.opts;
    cfg->n_options = o->a.n_opts;
}

/* Context and listener, then the loop. */
static int tunnel_serve(const char *cmd, bool egress, const struct tun_opts *o,
                        struct tun_cfg *cfg)
{
    struct vt_config vc;
    fill_config(o, egress, &vc);
    bool attests = !vc.attester || strcmp(vc.attester, "none") != 0;
    if (!attests)
        cfg->cert_lifetime = 0;
    cfg->vc = &vc;
    int err = tun_ctx_new(&vc, attests, &cfg->ctx);
    if (err) {
        tool_err("%s: cannot set up attested TLS: %s (%s)", cmd, vt_strerror(err), vt_errname(err));
        vt_category cat = vt_err_category(err);
        return cat == VT_CAT_USAGE || cat == VT_CAT_IO || cat == VT_CAT_PARSE ? VT_EXIT_USAGE
                                                                              : VT_EXIT_REJECTED;
    }
    char shown[160], why[160] = "";
    vt_res r = vtp_tcp_listen(o->listen, &cfg->lfd, shown, sizeof(shown), why, sizeof(why));
    if (r.err) {
        tool_err("%s: cannot listen on %s: %s (%s)", cmd, o->listen, why[0] ? why : vt_strerror(r.err),
                 vt_errname(r.err));
        vt_ctx_free(cfg->ctx);
        return r.err == VT_ERR_PROTO_LISTEN ? VT_EXIT_REJECTED : VT_EXIT_USAGE;
    }
    if (o->metrics && !metrics_listen(cmd, o->metrics, cfg)) {
        vt_ctx_free(cfg->ctx);
        close(cfg->lfd);
        return VT_EXIT_USAGE;
    }
    fprintf(stderr, "listening on %s\n", shown);
    fflush(stderr);
    int rc = tun_run(cfg); /* frees the contexts */
    close(cfg->lfd);
    if (cfg->metrics_fd >= 0)
        close(cfg->metrics_fd);
    return rc;
}

static int tunnel_run_args(const struct vt_cmd_spec *spec, int argc, char **argv, bool egress);

static int tunnel_side(int argc, char **argv, bool egress)
{
    const struct vt_cmd_spec *spec = egress ? &egress_spec : &ingress_spec;
    if (tool_wants_help(argc, argv)) {
        spec->usage(stdout);
        return VT_EXIT_OK;
    }
    struct tun_argv a;
    int rc = tun_config_argv(spec->cmd, argc, argv, &a);
    if (rc == 0)
        rc = tunnel_run_args(spec, a.argc, a.argv, egress);
    tun_argv_free(&a);
    return rc;
}

static int tunnel_run_args(const struct vt_cmd_spec *spec, int argc, char **argv, bool egress)
{
    struct tun_opts o = { .max_parallel = 1024, .timeout = 30, .idle_timeout = 600,
                          .cert_lifetime = 600 };
    int rc = tool_parse(spec, argc, argv, &o);
    if (rc != VT_TOOL_PARSED)
        return rc;
    struct vtp_expect ex[TUN_MAX_EXPECT];
    if ((rc = check_opts(spec->cmd, argc, argv, egress, &o, ex)) != 0)
        return rc;
    tool_registry(spec->cmd, o.plugin_dir);
    struct tun_cfg cfg = {
        .side = egress ? TUN_EGRESS : TUN_INGRESS, .expect = ex, .n_expect = o.n_expect,
        .appraise = !egress || o.mutual, .max_parallel = o.max_parallel,
        .max_conns = o.max_conns, .timeout = o.timeout, .idle_timeout = o.idle_timeout,
        .cert_lifetime = o.cert_lifetime, .max_evidence_age = o.max_evidence_age,
        .claims_header = o.claims_header, .metrics_fd = -1,
    };
    cfg.proxy = o.http_proxy ? TUN_PROXY_HTTP : o.socks5 ? TUN_PROXY_SOCKS5 : TUN_PROXY_NONE;
    if (o.to && !resolve_to(spec->cmd, o.to, &cfg))
        return VT_EXIT_USAGE;
    struct vtb_snapshot *policy = NULL;
    if (o.policy && (rc = load_policy(spec->cmd, o.policy, &policy)) != 0)
        return rc;
    cfg.policy = policy;
    signal(SIGPIPE, SIG_IGN);
    rc = tunnel_serve(spec->cmd, egress, &o, &cfg);
    vtb_snapshot_unref(policy);
    return rc;
}

int cmd_tunnel(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "ingress"))
        return tunnel_side(argc - 1, argv + 1, false);
    if (argc >= 2 && !strcmp(argv[1], "egress"))
        return tunnel_side(argc - 1, argv + 1, true);
    FILE *f = tool_wants_help(argc, argv) ? stdout : stderr;
    ingress_usage(f);
    fprintf(f, "\n");
    egress_usage(f);
    return f == stdout ? VT_EXIT_OK : VT_EXIT_USAGE;
}
