/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tool.c - argument helpers shared by the `veritee` commands (see tool.h): the options several
 * commands take (--option NAME=VALUE, --root-ca F, --report-data HEX, --nonce HEX, --at TIME,
 * --key-type, --sim-dir), the table-driven parser that applies them (tool_parse), the
 * check of instance options against the registry, and reading an input file. Each helper
 * prints "veritee: CMD: ..." on bad input and returns false, so a command only decides its
 * exit status (VT_EXIT_USAGE).
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/instance.h"
#include "tool.h"
#include "util/codec.h"

bool tool_parse_option(char *arg, struct vt_option *o)
{
    char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        return false;
    *eq = 0;
    o->name = arg;
    o->value = eq + 1;
    return true;
}

bool tool_add_option(const char *cmd, char *arg, struct vt_option *opts, size_t *n, size_t max)
{
    if (*n >= max || !tool_parse_option(arg, &opts[*n])) {
        tool_err("%s: bad --option (want NAME=VALUE, at most %zu)", cmd, max);
        return false;
    }
    (*n)++;
    return true;
}

bool tool_add_root(const char *cmd, const char *path, const char **roots, size_t *n, size_t max)
{
    if (*n >= max) {
        tool_err("%s: too many --root-ca (at most %zu)", cmd, max);
        return false;
    }
    if (access(path, R_OK) != 0) {
        tool_err("%s: cannot read --root-ca %s: %s", cmd, path, strerror(errno));
        return false;
    }
    roots[(*n)++] = path;
    return true;
}

bool tool_report_data(const char *cmd, const char *hex, uint8_t rd[64])
{
    struct vt_buf b = VT_BUF_INIT;
    vt_res r = vti_hex_decode(hex, strlen(hex), &b);
    bool ok = !r.err && b.len <= 64;
    if (ok) {
        memset(rd, 0, 64);
        if (b.len)
            memcpy(rd, b.p, b.len);
    } else {
        tool_err("%s: --report-data must be hex of at most 64 bytes", cmd);
    }
    vti_buf_free(&b);
    return ok;
}

bool tool_nonce(const char *cmd, const char *hex, struct vt_buf *out)
{
    vti_buf_free(out);
    if (vti_hex_decode(hex, strlen(hex), out).err || out->len == 0) {
        tool_err("%s: bad --nonce (want hex)", cmd);
        return false;
    }
    return true;
}

bool tool_time(const char *cmd, const char *arg, int64_t *out)
{
    if (vti_time_parse(arg, out).err || *out <= 0) {
        tool_err("%s: bad --at '%s' (want RFC 3339 or Unix seconds)", cmd, arg);
        return false;
    }
    return true;
}

bool tool_key_type(const char *cmd, const char *arg, enum vt_key_type *out)
{
    if (!strcmp(arg, "p256"))
        *out = VT_KEY_P256;
    else if (!strcmp(arg, "p384"))
        *out = VT_KEY_P384;
    else if (!strcmp(arg, "rsa3072"))
        *out = VT_KEY_RSA3072;
    else {
        tool_err("%s: --key-type must be p256, p384 or rsa3072", cmd);
        return false;
    }
    return true;
}

const char *tool_sim_dir(const char *arg)
{
    return arg ? arg : getenv("VERITEE_SIM_DIR");
}

bool tool_read_input(const char *cmd, const char *path, size_t max, struct vt_buf *out)
{
    vt_res r = vti_file_read(path, max, out);
    if (r.err) {
        tool_err("%s: cannot read %s: %s", cmd, path, vt_strerror(r.err));
        return false;
    }
    return true;
}

/* ---- the table-driven parser ------------------------------------------------------------- */

static bool add_claim(const char *cmd, char *arg, struct vt_custom_claim *c, size_t *n, long max)
{
    struct vt_option o;
    if (*n >= (size_t)max || !tool_parse_option(arg, &o)) {
        tool_err("%s: bad --claim (want NAME=VALUE, at most %ld)", cmd, max);
        return false;
    }
    c[(*n)++] = (struct vt_custom_claim){ o.name, (const uint8_t *)o.value, strlen(o.value) };
    return true;
}

static bool ranged(const char *cmd, const struct vt_arg *a, const char *v, long *out)
{
    char *end = NULL;
    errno = 0;
    long x = strtol(v, &end, 10);
    bool ok = errno == 0 && end != v && *end == '\0' && x >= a->min && x <= a->max;
    if (ok)
        *out = x;
    else
        tool_err("%s: %s", cmd, a->bad);
    return ok;
}

/* Check v as row a says and store it into opts. */
static bool store(const char *cmd, const struct vt_arg *a, char *v, void *opts)
{
    char *dst = (char *)opts + a->off;
    size_t *count = (size_t *)((char *)opts + a->count_off);
    switch (a->type) {
    case VT_ARG_STR:
        *(const char **)(void *)dst = v;
        return true;
    case VT_ARG_FLAG:
        *(bool *)(void *)dst = true;
        return true;
    case VT_ARG_ROOT:
        return tool_add_root(cmd, v, (const char **)(void *)dst, count, (size_t)a->max);
    case VT_ARG_OPTION:
        return tool_add_option(cmd, v, (struct vt_option *)(void *)dst, count, (size_t)a->max);
    case VT_ARG_CLAIM:
        return add_claim(cmd, v, (struct vt_custom_claim *)(void *)dst, count, a->max);
    case VT_ARG_TIME:
        return tool_time(cmd, v, (int64_t *)(void *)dst);
    case VT_ARG_NONCE:
        return tool_nonce(cmd, v, (struct vt_buf *)(void *)dst);
    case VT_ARG_REPORT_DATA:
        return tool_report_data(cmd, v, (uint8_t *)dst);
    case VT_ARG_KEY_TYPE:
        return tool_key_type(cmd, v, (enum vt_key_type *)(void *)dst);
    case VT_ARG_LONG:
        return ranged(cmd, a, v, (long *)(void *)dst);
    case VT_ARG_STRLIST:
        if (!v[0] || *count >= (size_t)a->max) {
            tool_err("%s: --%s: want a non-empty value, at most %ld times", cmd, a->name, a->max);
            return false;
        }
        ((const char **)(void *)dst)[(*count)++] = v;
        return true;
    }
    return false;
}

/* getopt_long's tables for spec: long options (val 256 + row; --help is 'h') and the short
 * letters ("h" and each row's short_name). */
static void getopt_tables(const struct vt_cmd_spec *spec, struct option *lo, char *shorts)
{
    size_t k = 0;
    shorts[k++] = 'h';
    for (size_t i = 0; i < spec->n_args; i++) {
        const struct vt_arg *a = &spec->args[i];
        int has = a->type == VT_ARG_FLAG ? no_argument : required_argument;
        lo[i] = (struct option){ a->name, has, NULL, 256 + (int)i };
        if (a->short_name) {
            shorts[k++] = (char)a->short_name;
            if (has == required_argument)
                shorts[k++] = ':';
        }
    }
    shorts[k] = '\0';
    lo[spec->n_args] = (struct option){ "help", no_argument, NULL, 'h' };
    lo[spec->n_args + 1] = (struct option){ NULL, 0, NULL, 0 };
}

static const struct vt_arg *row_for(const struct vt_cmd_spec *spec, int ch)
{
    if (ch >= 256 && (size_t)(ch - 256) < spec->n_args)
        return &spec->args[ch - 256];
    for (size_t i = 0; i < spec->n_args; i++)
        if (spec->args[i].short_name && spec->args[i].short_name == ch)
            return &spec->args[i];
    return NULL;
}

int tool_parse(const struct vt_cmd_spec *spec, int argc, char **argv, void *opts)
{
    struct option lo[VT_TOOL_MAX_ARGS + 2];
    char shorts[2 * VT_TOOL_MAX_ARGS + 2];
    if (spec->n_args > VT_TOOL_MAX_ARGS)
        return VT_EXIT_USAGE; /* a table too large for this parser: a bug, caught by tests */
    getopt_tables(spec, lo, shorts);
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
        if (ch == 'h') {
            spec->usage(stdout);
            return VT_EXIT_OK;
        }
        const struct vt_arg *a = row_for(spec, ch);
        if (!a) {
            tool_err("%s: unknown or incomplete option '%s'", spec->cmd, argv[optind - 1]);
            spec->usage(stderr);
            return VT_EXIT_USAGE;
        }
        if (!store(spec->cmd, a, optarg, opts))
            return VT_EXIT_USAGE;
    }
    return VT_TOOL_PARSED;
}

/* ---- instance options and selection ------------------------------------------------------- */

static const char *const kind_names[] = { "tls", "crypto", "attester", "verifier" };

/* "attester sim-tdx knows: a, b" for each selected instance, then the library's own. */
static void known_list(const struct vt_instance_hdr *const *sel, size_t n_sel, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i <= n_sel && used < cap; i++) {
        const char *const *names = i < n_sel ? sel[i]->options : vti_library_options;
        int w = i < n_sel ? snprintf(out + used, cap - used, "%s %s knows: ",
                                     kind_names[sel[i]->kind], sel[i]->name)
                          : snprintf(out + used, cap - used, "the library knows: ");
        used += w > 0 ? (size_t)w : 0;
        for (size_t j = 0; names && names[j] && used < cap; j++) {
            w = snprintf(out + used, cap - used, "%s%s", j ? ", " : "", names[j]);
            used += w > 0 ? (size_t)w : 0;
        }
        if ((!names || !names[0]) && used < cap) {
            w = snprintf(out + used, cap - used, "none");
            used += w > 0 ? (size_t)w : 0;
        }
        if (i < n_sel && used < cap) {
            w = snprintf(out + used, cap - used, "; ");
            used += w > 0 ? (size_t)w : 0;
        }
    }
}

bool tool_check_options(const char *cmd, const struct vt_option *opts, size_t n,
                           const struct vt_instance_hdr *const *sel, size_t n_sel)
{
    size_t bad = 0;
    vt_res r = vti_options_check(opts, n, &bad);
    if (!r.err)
        return true;
    char known[2048];
    known_list(sel, n_sel, known, sizeof(known));
    tool_err("%s: unknown --option '%s': no instance reads it (%s)", cmd,
                r.err == VT_ERR_UNKNOWN_OPTION ? opts[bad].name : "?", known);
    return false;
}

void tool_registry(const char *cmd, const char *dir)
{
    vt_res r = vti_registry_init(dir);
    if (r.err)
        tool_err("%s: plug-in loading: %s", cmd, vt_strerror(r.err));
}

bool tool_attester(const char *cmd, const struct tool_attester *a,
                      const struct vt_attester_ops **ret, struct vti_attest_ctx *ctx)
{
    const struct vt_instance_hdr *h;
    if (vti_instance_find(VT_KIND_ATTESTER, a->tee, &h).err) {
        tool_err("%s: no attester '%s' (see 'veritee instances')", cmd, a->tee);
        return false;
    }
    if (!tool_check_options(cmd, a->opts, a->n_opts, &h, 1))
        return false;
    *ret = (const struct vt_attester_ops *)h;
    *ctx = (struct vti_attest_ctx){ .sim_dir = tool_sim_dir(a->sim_dir), .options = a->opts,
                                    .n_options = a->n_opts };
    return true;
}
