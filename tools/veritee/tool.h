/*
 * tool.h - shared pieces of the `veritee` command-line tool.
 *
 * Exit codes (a contract scripts rely on): 0 success / verified, 1 rejected or failed at run
 * time, 2 bad usage or unreadable input.
 */
#ifndef VT_TOOL_H
#define VT_TOOL_H

#include <stdbool.h>
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
void vt_tool_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* True if argv contains -h or --help before "--". */
bool vt_tool_wants_help(int argc, char **argv);

/* ---- shared argument helpers (tool.c): each prints "veritee: CMD: ..." and returns false on
 * bad input; the caller then exits with VT_EXIT_USAGE. ---------------------------------------- */

struct vt_buf;

/* "NAME=VALUE" -> option (arg is modified in place); false without '=' or with an empty NAME. */
bool vt_tool_parse_option(char *arg, struct vt_option *o);
/* --option NAME=VALUE: parsed into opts[*n] (at most max options). */
bool vt_tool_add_option(const char *cmd, char *arg, struct vt_option *opts, size_t *n, size_t max);
/* --root-ca F: F must be readable; added as roots[*n] (at most max). */
bool vt_tool_add_root(const char *cmd, const char *path, const char **roots, size_t *n, size_t max);
/* --report-data HEX: at most 64 bytes, zero-padded on the right into rd. */
bool vt_tool_report_data(const char *cmd, const char *hex, uint8_t rd[64]);
/* --nonce HEX: non-empty hex, replacing what out held. */
bool vt_tool_nonce(const char *cmd, const char *hex, struct vt_buf *out);
/* --at TIME: RFC 3339 or Unix seconds, after the epoch. */
bool vt_tool_time(const char *cmd, const char *arg, int64_t *out);
/* --key-type p256|p384|rsa3072. */
bool vt_tool_key_type(const char *cmd, const char *arg, enum vt_key_type *out);
/* The sim TEE directory: arg (--sim-dir) or else $VERITEE_SIM_DIR (may be NULL). */
const char *vt_tool_sim_dir(const char *arg);
/* Read an input file ("-": stdin) of at most max bytes. */
bool vt_tool_read_input(const char *cmd, const char *path, size_t max, struct vt_buf *out);

/* Text rendering of a verification report (cmd_verify.c; also used by `cert show`). */
void vt_tool_print_report(const vt_report *rep, bool explain);

#endif
