/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tool.h - shared pieces of the `veritee` command-line tool.
 *
 * Exit codes (a contract scripts rely on): 0 success / verified, 1 rejected or failed at run
 * time, 2 bad usage or unreadable input.
 */
#ifndef VT_TOOL_H
#define VT_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "veritee/veritee.h"

#define VT_EXIT_OK 0
#define VT_EXIT_REJECTED 1
#define VT_EXIT_USAGE 2

typedef int (*vt_cmd_fn)(int argc, char **argv);

#define VT_CMD(name, fn, summary) int fn(int argc, char **argv);
#include "commands.def"
#undef VT_CMD

/* Print "veritee: <msg>" to stderr. */
void tool_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* True if argv contains -h or --help before "--". */
bool tool_wants_help(int argc, char **argv);

/* ---- shared argument helpers (tool.c): each prints "veritee: CMD: ..." and returns false on
 * bad input; the caller then exits with VT_EXIT_USAGE. ---------------------------------------- */

struct vt_buf;
struct vt_attester_ops;
struct vti_attest_ctx;

/* "NAME=VALUE" -> option (arg is modified in place); false without '=' or with an empty NAME. */
bool tool_parse_option(char *arg, struct vt_option *o);
/* --option NAME=VALUE: parsed into opts[*n] (at most max options). */
bool tool_add_option(const char *cmd, char *arg, struct vt_option *opts, size_t *n, size_t max);
/* --root-ca F: F must be readable; added as roots[*n] (at most max). */
bool tool_add_root(const char *cmd, const char *path, const char **roots, size_t *n, size_t max);
/* --report-data HEX: at most 64 bytes, zero-padded on the right into rd. */
bool tool_report_data(const char *cmd, const char *hex, uint8_t rd[64]);
/* --nonce HEX: non-empty hex, replacing what out held. */
bool tool_nonce(const char *cmd, const char *hex, struct vt_buf *out);
/* --at TIME: RFC 3339 or Unix seconds, after the epoch. */
bool tool_time(const char *cmd, const char *arg, int64_t *out);
/* --key-type p256|p384|rsa3072. */
bool tool_key_type(const char *cmd, const char *arg, enum vt_key_type *out);
/* The sim TEE directory: arg (--sim-dir) or else $VERITEE_SIM_DIR (may be NULL). */
const char *tool_sim_dir(const char *arg);
/* Read an input file ("-": stdin) of at most max bytes. */
bool tool_read_input(const char *cmd, const char *path, size_t max, struct vt_buf *out);

/* ---- declarative option tables (tool.c) --------------------------------------------------
 * A command describes its options as a table of rows, each saying where in the command's own
 * option struct the value goes (offsetof) and how it is checked (the helpers above, with
 * their messages); tool_parse runs getopt_long over it. -h/--help prints the usage. */

#define VT_TOOL_MAX_ARGS 32
#define VT_TOOL_MAX_OPTIONS 16 /* --option NAME=VALUE per command */
#define VT_TOOL_MAX_ROOTS 8    /* --root-ca of verify / cert show */

enum vt_arg_type {
    VT_ARG_STR,         /* const char *: the value as given */
    VT_ARG_FLAG,        /* bool, set to true; takes no value */
    VT_ARG_ROOT,        /* const char *[max] + count: tool_add_root */
    VT_ARG_OPTION,      /* struct vt_option[max] + count: tool_add_option */
    VT_ARG_CLAIM,       /* struct vt_custom_claim[max] + count: NAME=VALUE */
    VT_ARG_TIME,        /* int64_t: tool_time */
    VT_ARG_NONCE,       /* struct vt_buf: tool_nonce (the caller frees it) */
    VT_ARG_REPORT_DATA, /* uint8_t[64]: tool_report_data */
    VT_ARG_KEY_TYPE,    /* enum vt_key_type: tool_key_type */
    VT_ARG_LONG,        /* long within [min, max], else "CMD: <bad>" */
    VT_ARG_STRLIST,     /* const char *[max] + count: non-empty values as given (repeatable) */
};

struct vt_arg {
    const char *name;      /* long option, without "--" */
    int short_name;        /* one letter, or 0 */
    enum vt_arg_type type;
    size_t off;            /* the value: offset in the command's option struct */
    size_t count_off;      /* ROOT / OPTION / CLAIM: offset of the size_t count */
    long min, max;         /* LONG: the range; ROOT / OPTION / CLAIM: max = capacity */
    const char *bad;       /* LONG: what a bad value gets told, e.g. "--timeout: want seconds" */
};

struct vt_cmd_spec {
    const char *cmd;       /* "attest", "cert create", ...: prefix of every message */
    void (*usage)(FILE *f);
    const struct vt_arg *args;
    size_t n_args;
};

#define VT_ARG(name, sh, type, st, field) { name, sh, type, offsetof(st, field), 0, 0, 0, NULL }
#define VT_ARG_LIST(name, type, st, field, count, cap) \
    { name, 0, type, offsetof(st, field), offsetof(st, count), 0, cap, NULL }

/* The attester options of attest, cert create and tls-*: --tee, --sim-dir, --option. */
struct tool_attester {
    const char *tee;
    const char *sim_dir;
    struct vt_option opts[VT_TOOL_MAX_OPTIONS];
    size_t n_opts;
};
#define VT_ARGS_ATTESTER(st, m)                                                        \
    VT_ARG("tee", 0, VT_ARG_STR, st, m.tee), VT_ARG("sim-dir", 0, VT_ARG_STR, st, m.sim_dir), \
    VT_ARG_LIST("option", VT_ARG_OPTION, st, m.opts, m.n_opts, VT_TOOL_MAX_OPTIONS)

/* The verification options of verify and cert show: --root-ca, --collateral, --at,
 * --allow-null (into m.o; m.o.root_ca_files must be pointed at m.roots after parsing). */
struct vt_tool_verify {
    struct vt_verify_opts o;
    const char *roots[VT_TOOL_MAX_ROOTS];
};
#define VT_ARGS_VERIFY(st, m)                                                               \
    VT_ARG_LIST("root-ca", VT_ARG_ROOT, st, m.roots, m.o.n_root_ca_files, VT_TOOL_MAX_ROOTS), \
    VT_ARG("collateral", 0, VT_ARG_STR, st, m.o.collateral),                               \
    VT_ARG("at", 0, VT_ARG_TIME, st, m.o.at), VT_ARG("allow-null", 0, VT_ARG_FLAG, st, m.o.allow_null)

/* tool_parse: the options were parsed; the operands are argv[optind..argc). */
#define VT_TOOL_PARSED (-1)
/* Parse argv (argv[0] is the command) into opts by spec: VT_TOOL_PARSED, or the exit status
 * to return: VT_EXIT_OK after --help (usage on stdout), VT_EXIT_USAGE after a message (an
 * unknown option also prints the usage on stderr). */
int tool_parse(const struct vt_cmd_spec *spec, int argc, char **argv, void *opts);

/* ---- instance options ------------------------------------------------------------------ */

struct vt_instance_hdr;
/* After vti_registry_init: every --option must be known to some registered instance (the
 * library's rule, core/instance.h); else prints "CMD: unknown --option 'NAME' (...)" listing
 * the options of the instances this run uses (sel), and returns false (exit VT_EXIT_USAGE). */
bool tool_check_options(const char *cmd, const struct vt_option *opts, size_t n,
                           const struct vt_instance_hdr *const *sel, size_t n_sel);
/* The registry with plug-ins from dir (NULL: $VERITEE_PLUGIN_DIR); a plug-in failure is
 * printed ("CMD: plug-in loading: ...") and is not fatal: the built-ins remain. */
void tool_registry(const char *cmd, const char *dir);
/* The attester named by a (not "none"): false after "CMD: no attester 'NAME' (see 'veritee
 * instances')"; then its options are checked (tool_check_options). The sim directory is
 * resolved into ctx. */
bool tool_attester(const char *cmd, const struct tool_attester *a,
                      const struct vt_attester_ops **ret, struct vti_attest_ctx *ctx);

/* Text rendering of a verification report (cmd_verify.c; also used by `cert show`). */
void tool_print_report(const vt_report *rep, bool explain);

/* verify --eventlog FILE (cmd_eventlog.c): replay FILE (format guessed) against a verified
 * report's RTMRs (CCEL) or PCRs ("pcr.<i>" claims) and, if every register the log touches and
 * the evidence carries matches, derive the eventlog.* claims. *ret gets a JSON object
 * {"file", "format", "bank", "verified", "pcrs_verified"|"rtmrs_verified", "claims"} or
 * {..., "verified": false, "error", "message", "register"?}. Returns VT_EXIT_OK, _REJECTED or
 * _USAGE (unreadable file; *ret NULL). */
struct json_t;
int tool_eventlog_against(const vt_report *rep, const char *file, bool allow_sha1,
                          struct json_t **ret);
void tool_eventlog_print(const struct json_t *j);

#endif
