/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tunnel_config.c - `veritee tunnel ingress|egress --config FILE`: the options of the command
 * line, written one per line in a file (operator input, at most 64 KiB):
 *
 *     # comment
 *     listen = 127.0.0.1:8443
 *     to = 127.0.0.1:8080
 *     expect = tee=sim        (repeatable options: one line each)
 *     mutual                  (a flag: the name alone)
 *
 * The file's options come first and the command line's after them, so a command-line option
 * overrides a single-valued one from the file and adds to a repeatable one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"
#include "tunnel.h"
#include "util/buf.h"

#define CONFIG_MAX 65536
#define CONFIG_MAX_LINES 256

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

/* One "name [= value]" line appended to a->argv as "--name" [value]. */
static bool config_line(const char *cmd, char *line, size_t lineno, struct tun_argv *a)
{
    char *eq = strchr(line, '=');
    if (eq)
        *eq = '\0';
    char *name = trim(line), *value = eq ? trim(eq + 1) : NULL;
    if (!name[0] || name[0] == '-' || strchr(name, ' ') || (eq && !value[0]) ||
        !strcmp(name, "config")) {
        tool_err("%s: --config line %zu: want 'NAME = VALUE' or a flag NAME", cmd, lineno);
        return false;
    }
    size_t n = strlen(name) + 3;
    char *opt = malloc(n);
    if (!opt)
        return false;
    snprintf(opt, n, "--%s", name);
    a->owned[a->n_owned++] = opt;
    a->argv[a->argc++] = opt;
    if (value)
        a->argv[a->argc++] = value;
    return true;
}

static bool config_file(const char *cmd, const char *path, struct tun_argv *a)
{
    if (!tool_read_input(cmd, path, CONFIG_MAX, &a->text))
        return false;
    if (vti_buf_append(&a->text, "", 1).err || memchr(a->text.p, '\0', a->text.len - 1)) {
        tool_err("%s: --config %s: not a text file", cmd, path);
        return false;
    }
    char *s = (char *)a->text.p;
    for (size_t lineno = 1; s && *s; lineno++) {
        char *nl = strchr(s, '\n');
        if (nl)
            *nl = '\0';
        char *line = trim(s);
        s = nl ? nl + 1 : NULL;
        if (!line[0] || line[0] == '#')
            continue;
        if (a->n_owned >= CONFIG_MAX_LINES) {
            tool_err("%s: --config %s: more than %d options", cmd, path, CONFIG_MAX_LINES);
            return false;
        }
        if (!config_line(cmd, line, lineno, a))
            return false;
    }
    return true;
}

int tun_config_argv(const char *cmd, int argc, char **argv, struct tun_argv *a)
{
    memset(a, 0, sizeof(*a));
    a->text = (struct vt_buf)VT_BUF_INIT;
    a->argv = calloc((size_t)argc + 2 * CONFIG_MAX_LINES + 1, sizeof(char *));
    a->owned = calloc(CONFIG_MAX_LINES, sizeof(char *));
    if (!a->argv || !a->owned) {
        tool_err("%s: out of memory", cmd);
        return VT_EXIT_REJECTED;
    }
    a->argv[a->argc++] = argv[0];
    const char *path = NULL;
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++) {
        if (!strcmp(argv[i], "--config") && i + 1 < argc)
            path = argv[i + 1];
        else if (!strncmp(argv[i], "--config=", 9))
            path = argv[i] + 9;
    }
    if (path && !config_file(cmd, path, a))
        return VT_EXIT_USAGE;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--config") && i + 1 < argc)
            i++; /* already read */
        else if (strncmp(argv[i], "--config=", 9))
            a->argv[a->argc++] = argv[i];
    }
    a->argv[a->argc] = NULL;
    return 0;
}

void tun_argv_free(struct tun_argv *a)
{
    for (size_t i = 0; a->owned && i < a->n_owned; i++)
        free(a->owned[i]);
    free(a->owned);
    free(a->argv);
    vti_buf_free(&a->text);
}
