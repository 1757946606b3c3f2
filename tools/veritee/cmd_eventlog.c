/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_eventlog.c - `veritee eventlog show FILE [--json] [--format tcg|ccel] [--allow-sha1-log]`:
 * lists the events of a TCG PC Client or CCEL event log (index, register, type, digests,
 * decoded data where simple) and the registers the log replays to: the PCRs of every bank
 * (TCG) or RTMR0..3 (CCEL). With --json one object:
 *   {"format", "legacy_sha1", "algorithms": {"sha256": 32, ...}, "startup_locality",
 *    "events": [{"index", "pcr" | "mr_index", "type", "type_name", "digests": {alg: hex},
 *                "data_size", "data"?}],
 *    "pcrs": {"sha1"|"sha256"|...: {"<index>": "<hex>"}}   (TCG: the PCRs the log touches)
 *    "rtmrs": {"0".."3": "<hex>"}}                          (CCEL)
 * The log is validated whole before anything is printed (src/evidence/eventlog.c).
 *
 * Exit status: 0 shown, 2 bad usage, unreadable file or a log that does not parse.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "evidence/eventlog.h"
#include "evidence/eventlog_claims.h"
#include "evidence/eventlog_data.h"
#include "evidence/tpm.h"
#include "tool.h"
#include "verifiers/eventlog_check.h"
#include "util/buf.h"
#include "util/codec.h"

#define DESC_MAX 4096

static void show_usage(FILE *f)
{
    fprintf(f,
            "usage: veritee eventlog show FILE [--json] [--format tcg|ccel] [--allow-sha1-log]\n"
            "                             [--claims]\n\n"
            "Parses a measured-boot event log and lists its events (index, PCR or CC MR index,\n"
            "type, digests, decoded data where simple), then the registers it replays to.\n"
            "  tcg   TCG PC Client log (e.g. /sys/kernel/security/tpm0/binary_bios_measurements):\n"
            "        every PCR bank of the Spec ID Event03 header, from zero (PCR0 from the\n"
            "        StartupLocality event's locality), EV_NO_ACTION not extended\n"
            "  ccel  TDX CCEL log (e.g. /sys/firmware/acpi/tables/data/CCEL): CC MR index 1..4\n"
            "        replayed into RTMR0..3 with SHA-384 (index 0 = MRTD is not replayed); the\n"
            "        padding after the log is ignored\n"
            "Without --format: ccel when the header lists SHA-384 alone, else tcg.\n\n"
            "  --json            one JSON object: \"events\", and \"pcrs\" {bank: {index: hex}}\n"
            "                    (tcg: the PCRs the log touches) or \"rtmrs\" {\"0\"..\"3\": hex}\n"
            "  --format F        tcg or ccel\n"
            "  --allow-sha1-log  accept a SHA-1-only (TCG 1.2) log\n"
            "  --claims          also list the eventlog.* claims the log gives when every register\n"
            "                    it touches matches a quote (bank: sha256 if the log has it, CCEL\n"
            "                    sha384): for writing policies from a reference boot; this is not a\n"
            "                    verification (JSON: \"claims_if_matched\")\n\n"
            "exit status: 0 shown, 2 bad usage, unreadable file or malformed log\n");
}

struct show_opts {
    bool json, allow_sha1, claims;
    const char *format;
};

static const struct vt_arg show_args[] = {
    VT_ARG("json", 0, VT_ARG_FLAG, struct show_opts, json),
    VT_ARG("format", 0, VT_ARG_STR, struct show_opts, format),
    VT_ARG("allow-sha1-log", 0, VT_ARG_FLAG, struct show_opts, allow_sha1),
    VT_ARG("claims", 0, VT_ARG_FLAG, struct show_opts, claims),
};
static const struct vt_cmd_spec show_spec = { "eventlog show", show_usage, show_args,
                                              VT_ARRAY_LEN(show_args) };

static json_t *hexj(const uint8_t *p, size_t n)
{
    char h[2 * VT_EVLOG_MAX_DIGEST + 1];
    vti_hex_encode(p, n, h);
    return json_string(h);
}

static json_t *event_json(const struct vt_evlog *log, const struct vt_evlog_event *ev)
{
    static char desc[DESC_MAX];
    const char *name = vti_evlog_type_name(ev->type);
    json_t *e = json_object(), *d = json_object();
    json_object_set_new(e, "index", json_integer(ev->seq));
    json_object_set_new(e, log->format == VT_EVLOG_CCEL ? "mr_index" : "pcr",
                        json_integer(ev->pcr));
    json_object_set_new(e, "type", json_integer(ev->type));
    json_object_set_new(e, "type_name", name ? json_string(name) : json_null());
    for (uint32_t i = 0; i < log->n_algs; i++)
        json_object_set_new(d, vti_tpm_hash_name(log->algs[i].alg),
                            hexj(ev->digest[i], log->algs[i].size));
    json_object_set_new(e, "digests", d);
    json_object_set_new(e, "data_size", json_integer(ev->data_len));
    if (vti_evlog_describe(ev, desc, sizeof(desc)))
        json_object_set_new(e, "data", json_string(desc));
    return e;
}

static json_t *registers_json(const struct vt_evlog_replay *r)
{
    json_t *o = json_object();
    char k[8];
    for (uint32_t b = 0; b < r->n_banks; b++) {
        const struct vt_evlog_bank *bk = &r->bank[b];
        json_t *bank = r->format == VT_EVLOG_CCEL ? o : json_object();
        for (uint32_t i = 0; i < VT_EVLOG_NUM_PCRS; i++) {
            if (r->format == VT_EVLOG_CCEL ? i >= VT_EVLOG_NUM_RTMRS : !(bk->touched & (1u << i)))
                continue;
            snprintf(k, sizeof(k), "%u", i);
            json_object_set_new(bank, k, hexj(bk->v[i], bk->size));
        }
        if (bank != o)
            json_object_set_new(o, vti_tpm_hash_name(bk->alg), bank);
    }
    return o;
}

static json_t *log_json(const struct vt_evlog *log, const struct vt_evlog_replay *r)
{
    json_t *j = json_object(), *algs = json_object(), *evs = json_array();
    json_object_set_new(j, "format", json_string(log->format == VT_EVLOG_CCEL ? "ccel" : "tcg"));
    json_object_set_new(j, "legacy_sha1", json_boolean(log->legacy_sha1));
    for (uint32_t i = 0; i < log->n_algs; i++)
        json_object_set_new(algs, vti_tpm_hash_name(log->algs[i].alg),
                            json_integer(log->algs[i].size));
    json_object_set_new(j, "algorithms", algs);
    json_object_set_new(j, "startup_locality",
                        log->has_locality ? json_integer(log->locality) : json_null());
    struct vt_evlog_iter it;
    struct vt_evlog_event ev;
    vti_evlog_iter_init(log, &it);
    while (vti_evlog_next(&it, &ev))
        json_array_append_new(evs, event_json(log, &ev));
    json_object_set_new(j, "events", evs);
    json_object_set_new(j, log->format == VT_EVLOG_CCEL ? "rtmrs" : "pcrs", registers_json(r));
    return j;
}

static void print_text_event(const struct vt_evlog *log, const struct vt_evlog_event *ev)
{
    static char desc[DESC_MAX];
    char h[2 * VT_EVLOG_MAX_DIGEST + 1];
    const char *name = vti_evlog_type_name(ev->type);
    printf("#%u %s%u ", ev->seq, log->format == VT_EVLOG_CCEL ? "MR" : "PCR", ev->pcr);
    if (name)
        printf("%s", name);
    else
        printf("0x%08x", ev->type);
    printf(" (%u bytes)\n", ev->data_len);
    for (uint32_t i = 0; i < log->n_algs; i++) {
        vti_hex_encode(ev->digest[i], log->algs[i].size, h);
        printf("    %-7s %s\n", vti_tpm_hash_name(log->algs[i].alg), h);
    }
    if (vti_evlog_describe(ev, desc, sizeof(desc)))
        printf("    data    %s\n", desc);
}

static void print_text(const struct vt_evlog *log, const struct vt_evlog_replay *r)
{
    printf("format: %s%s, %u event(s), algorithms:", log->format == VT_EVLOG_CCEL ? "ccel" : "tcg",
           log->legacy_sha1 ? " (legacy SHA-1)" : "", log->n_events);
    for (uint32_t i = 0; i < log->n_algs; i++)
        printf(" %s", vti_tpm_hash_name(log->algs[i].alg));
    printf("\n");
    if (log->has_locality)
        printf("StartupLocality: %u (PCR0 starts at 00..0%u)\n", log->locality, log->locality);
    struct vt_evlog_iter it;
    struct vt_evlog_event ev;
    vti_evlog_iter_init(log, &it);
    while (vti_evlog_next(&it, &ev))
        print_text_event(log, &ev);
    char h[2 * VT_EVLOG_MAX_DIGEST + 1];
    for (uint32_t b = 0; b < r->n_banks; b++) {
        const struct vt_evlog_bank *bk = &r->bank[b];
        printf("replayed %s:\n", log->format == VT_EVLOG_CCEL ? "RTMRs (SHA-384)"
                                                               : vti_tpm_hash_name(bk->alg));
        for (uint32_t i = 0; i < VT_EVLOG_NUM_PCRS; i++) {
            bool show = log->format == VT_EVLOG_CCEL ? i < VT_EVLOG_NUM_RTMRS
                                                     : (bk->touched & (1u << i)) != 0;
            if (!show)
                continue;
            vti_hex_encode(bk->v[i], bk->size, h);
            printf("  %s%-2u %s\n", log->format == VT_EVLOG_CCEL ? "RTMR" : "PCR", i, h);
        }
    }
}

static bool parse_format(const char *s, const struct vt_buf *in, enum vt_evlog_format *f)
{
    if (!s) {
        *f = vti_evlog_guess_format(in->p, in->len);
        return true;
    }
    if (!strcmp(s, "tcg") || !strcmp(s, "ccel")) {
        *f = s[0] == 't' ? VT_EVLOG_TCG : VT_EVLOG_CCEL;
        return true;
    }
    tool_err("eventlog show: --format: want tcg or ccel, not '%s'", s);
    return false;
}

/* --claims: the claims of the log as if every register it touches matched a quote (the
 * sha256 bank when the log has one, else its first replayed bank; CCEL: SHA-384). */
static json_t *claims_if_matched(const struct vt_evlog *log, const struct vt_evlog_replay *r)
{
    const struct vt_evlog_bank *b = vti_evlog_bank(r, VT_TPM_ALG_SHA256);
    if (!b || log->format == VT_EVLOG_CCEL)
        b = r->n_banks ? &r->bank[0] : NULL;
    json_t *cl = NULL;
    if (!b || !vti_is_ok(vti_evlog_claims(log, b->alg, b->touched, &cl)))
        return json_null();
    return cl;
}

static void print_claims(const json_t *cl)
{
    const char *k;
    json_t *v;
    printf("claims if every touched register matches a quote (not verified):\n");
    json_object_foreach(vti_unconst(cl), k, v) {
        char *s = json_is_string(v) ? NULL : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        printf("  %s: %s\n", k, s ? s : json_string_value(v));
        free(s);
    }
}

static int output(const struct vt_evlog *log, const struct vt_evlog_replay *r, bool json,
                  bool claims)
{
    json_t *cl = claims ? claims_if_matched(log, r) : NULL;
    if (!json) {
        print_text(log, r);
        if (cl)
            print_claims(cl);
        json_decref(cl);
        return VT_EXIT_OK;
    }
    json_t *j = log_json(log, r);
    if (j && cl)
        json_object_set(j, "claims_if_matched", cl);
    json_decref(cl);
    char *s = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    if (!s) {
        tool_err("eventlog show: out of memory");
        return VT_EXIT_REJECTED;
    }
    printf("%s\n", s);
    free(s);
    return VT_EXIT_OK;
}

static int eventlog_show(int argc, char **argv)
{
    struct show_opts o = { 0 };
    int rc = tool_parse(&show_spec, argc, argv, &o);
    if (rc != VT_TOOL_PARSED)
        return rc;
    if (optind != argc - 1) {
        show_usage(stderr);
        return VT_EXIT_USAGE;
    }
    const char *file = argv[optind];
    struct vt_buf in = VT_BUF_INIT;
    enum vt_evlog_format fmt;
    if (!tool_read_input("eventlog show", file, VT_EVLOG_MAX_LEN, &in) ||
        !parse_format(o.format, &in, &fmt)) {
        vti_buf_free_nowipe(&in);
        return VT_EXIT_USAGE;
    }
    struct vt_evlog log;
    struct vt_evlog_replay *r = calloc(1, sizeof(*r));
    vt_res res = vti_evlog_parse(in.p, in.len, fmt, o.allow_sha1 ? VT_EVLOG_ALLOW_SHA1 : 0, &log);
    if (vti_is_ok(res))
        res = r ? vti_evlog_replay(&log, r) : (vt_res){ VT_ERR_NOMEM };
    if (vti_is_ok(res)) {
        rc = output(&log, r, o.json, o.claims);
    } else {
        tool_err("eventlog show: %s: %s (%s)", file, vt_strerror(res.err), vt_errname(res.err));
        rc = VT_EXIT_USAGE;
    }
    free(r);
    vti_buf_free_nowipe(&in);
    return rc;
}

int cmd_eventlog(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "show"))
        return eventlog_show(argc - 1, argv + 1);
    FILE *f = tool_wants_help(argc, argv) ? stdout : stderr;
    show_usage(f);
    return f == stdout ? VT_EXIT_OK : VT_EXIT_USAGE;
}

/* ---- verify --eventlog ------------------------------------------------------------------- */

static json_t *mask_json(uint32_t m)
{
    json_t *a = json_array();
    for (uint32_t i = 0; i < 32; i++)
        if (m & (1u << i))
            json_array_append_new(a, json_integer(i));
    return a;
}

/* The outcome of vti_evlog_check_report into j ("verified", "error", "register", claims). */
static int check_json(vt_res res, const struct vt_evlog_check *c, json_t *j)
{
    char reg[16];
    json_object_set_new(j, "format", json_string(c->format == VT_EVLOG_CCEL ? "ccel" : "tcg"));
    if (c->alg)
        json_object_set_new(j, "bank", json_string(vti_tpm_hash_name(c->alg)));
    if (!vti_is_ok(res)) {
        json_object_set_new(j, "verified", json_false());
        json_object_set_new(j, "error", json_string(vt_errname(res.err)));
        json_object_set_new(j, "message", json_string(vt_strerror(res.err)));
        if (res.err == VT_ERR_EVLOG_PCR_MISMATCH || res.err == VT_ERR_EVLOG_RTMR_MISMATCH)
            json_object_set_new(j, "register", json_string(vti_evlog_check_register(c, reg)));
        return VT_EXIT_REJECTED;
    }
    json_object_set_new(j, "verified", json_true());
    json_object_set_new(j, c->format == VT_EVLOG_CCEL ? "rtmrs_verified" : "pcrs_verified",
                        mask_json(c->verified));
    json_object_set(j, "claims", c->claims);
    return VT_EXIT_OK;
}

int tool_eventlog_against(const vt_report *rep, const char *file, bool allow_sha1, json_t **ret)
{
    struct vt_buf in = VT_BUF_INIT;
    *ret = NULL;
    if (!tool_read_input("verify --eventlog", file, VT_EVLOG_MAX_LEN, &in))
        return VT_EXIT_USAGE;
    json_t *j = json_object();
    struct vt_evlog_check c;
    json_object_set_new(j, "file", json_string(file));
    vt_res res = vti_evlog_check_report(rep, in.p, in.len, allow_sha1 ? VT_EVLOG_ALLOW_SHA1 : 0,
                                        &c);
    int rc = check_json(res, &c, j);
    json_decref(c.claims);
    vti_buf_free_nowipe(&in);
    *ret = j;
    return rc;
}

void tool_eventlog_print(const json_t *j)
{
    const char *k;
    json_t *v;
    printf("eventlog: %s (%s)\n", json_string_value(json_object_get(j, "file")),
           json_string_value(json_object_get(j, "format")));
    if (!json_is_true(json_object_get(j, "verified"))) {
        const char *reg = json_string_value(json_object_get(j, "register"));
        printf("  verified: no\n  error: %s: %s%s%s\n",
               json_string_value(json_object_get(j, "error")),
               json_string_value(json_object_get(j, "message")), reg ? ": " : "", reg ? reg : "");
        return;
    }
    printf("  verified: yes (%s)\n", json_string_value(json_object_get(j, "bank")));
    json_object_foreach(vti_unconst(json_object_get(j, "claims")), k, v) {
        char *s = json_is_string(v) ? NULL : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        printf("  %s: %s\n", k, s ? s : json_string_value(v));
        free(s);
    }
}
