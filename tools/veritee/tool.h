/*
 * tool.h - shared pieces of the `veritee` command-line tool.
 *
 * Exit codes (a contract scripts rely on): 0 success / verified, 1 rejected or failed at run
 * time, 2 bad usage or unreadable input.
 */
#ifndef VT_TOOL_H
#define VT_TOOL_H

#include <stdbool.h>
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

#endif
