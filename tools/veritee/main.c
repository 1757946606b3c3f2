/* SPDX-License-Identifier: Apache-2.0 */
/*
 * main.c - `veritee`: one binary, subcommands dispatched from commands.def.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/instance.h"
#include "vt_buildinfo.h"
#include "tool.h"

struct cmd {
    const char *name;
    vt_cmd_fn fn;
    const char *summary;
};

static const struct cmd cmds[] = {
#define VT_CMD(name, fn, summary) { name, fn, summary },
#include "commands.def"
#undef VT_CMD
};

void tool_err(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("veritee: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

bool tool_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--"))
            break;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
            return true;
    }
    return false;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: veritee COMMAND [OPTIONS]\n\n"
               "Remote attestation for confidential computing: attested TLS, evidence\n"
               "verification, the sim TEE.\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        fprintf(f, "  %-12s %s\n", cmds[i].name, cmds[i].summary);
    fprintf(f, "\n'veritee COMMAND --help' describes a command; 'veritee --version' prints the version.\n"
               "exit status: 0 success or verified, 1 rejected or failed, 2 bad usage or unreadable input\n");
}

int cmd_version(int argc, char **argv)
{
    if (tool_wants_help(argc, argv)) {
        printf("usage: veritee version\n       veritee --version\n\n"
               "Prints the version (semantic versioning) and the git revision the binary was\n"
               "built from (\"unknown\" when not built from a git checkout).\n");
        return VT_EXIT_OK;
    }
    printf("veritee %s (git %s)\n", VT_VERSION_STRING, VT_BUILD_REV);
    return VT_EXIT_OK;
}

int cmd_instances(int argc, char **argv)
{
    if (tool_wants_help(argc, argv)) {
        printf("usage: veritee instances\n\nLists every registered instance with its kind,\n"
               "priority, whether it is explicit-only (never auto-selected) or a plug-in, and\n"
               "the --option names it reads (an option no instance reads is refused).\n"
               "Plug-ins are loaded from $VERITEE_PLUGIN_DIR (a directory writable only by root\n"
               "or the current user; built-in names are reserved; built-ins are preferred).\n");
        return VT_EXIT_OK;
    }
    vt_res r = vti_registry_init(NULL);
    if (r.err)
        tool_err("plug-in loading: %s", vt_strerror(r.err));
    static const char *const kinds[] = { "tls", "crypto", "attester", "verifier" };
    for (int k = 0; k < VT_KIND__COUNT; k++) {
        const struct vt_instance_hdr *l[64];
        size_t n = vti_instance_list((enum vt_kind)k, l, 64);
        for (size_t i = 0; i < n; i++) {
            printf("%-9s %-12s priority %-4d%s%s", kinds[k], l[i]->name, l[i]->priority,
                   (l[i]->flags & VT_INST_EXPLICIT) ? " explicit-only" : "",
                   vti_instance_is_plugin(l[i]) ? " plug-in" : "");
            for (size_t j = 0; l[i]->options && l[i]->options[j]; j++)
                printf("%s%s", j ? ", " : " options: ", l[i]->options[j]);
            printf("\n");
        }
    }
    return VT_EXIT_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return VT_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return VT_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version"))
        return cmd_version(1, argv);
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        if (!strcmp(argv[1], cmds[i].name))
            return cmds[i].fn(argc - 1, argv + 1);
    }
    tool_err("unknown command '%s' (see 'veritee --help')", argv[1]);
    return VT_EXIT_USAGE;
}
