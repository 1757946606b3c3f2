#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""mangen.py - render a manual page from a binary's --help output.

The --help text compiled into each binary is the one source: the build runs the freshly built
binary with --help and turns what it prints into roff, so the manual and --help never disagree.
Man-only prose (FILES, SEE ALSO, ...) comes from an optional extra roff file appended verbatim.

  mangen.py --name PAGE --section N --summary TEXT [--extra FILE] [--conf]
            [--also "ARGS"]... -o OUT -- BIN [ARGS...]

The page renders `BIN ARGS... --help`; each --also renders `BIN ARGS --help` (a nested
command, e.g. "sim azure-vtpm") as a subsection of DESCRIPTION.

--conf renders the broker's configuration file page: every long option of the help text that is
also a setting (see CONF_SKIP) becomes "name = VALUE".
"""
import argparse
import os
import re
import subprocess
import sys

CONF_SKIP = {"config", "help", "version", "gen-master-key", "rekey"}
ITEM = re.compile(r"^  (\S.*?)(?:\s{2,}(\S.*))?$")


def esc(text):
    """Escape text for roff: backslashes, hyphens (as \\-, for copy-pasted options), and a
    leading period or apostrophe."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    if text.startswith((".", "'")):
        text = "\\&" + text
    return text


def split_help(text):
    """(synopsis lines, body lines): the synopsis is everything up to the first blank line."""
    lines = text.rstrip("\n").split("\n")
    cut = lines.index("") if "" in lines else len(lines)
    syn = [ln.strip() for ln in lines[:cut]]
    if syn and syn[0].startswith("usage:"):
        syn[0] = syn[0][len("usage:"):].strip()
    return syn, lines[cut + 1:]


def parse_body(lines):
    """Blocks: ("para", text), ("item", tag, text), ("bullet", text), ("usage", lines) from
    the body of a --help text."""
    blocks = []
    for ln in lines:
        if ln.startswith("usage:"):
            blocks.append(("usage", [ln[len("usage:"):].strip()]))
            continue
        if blocks and blocks[-1][0] == "usage" and ln.strip():
            blocks[-1][1].append(ln.strip())
            continue
        if not ln.strip():
            blocks.append(("blank",))
            continue
        m = ITEM.match(ln)
        indent = len(ln) - len(ln.lstrip(" "))
        if indent >= 3 and blocks and blocks[-1][0] == "item":
            tag, desc = blocks[-1][1], blocks[-1][2]
            blocks[-1] = ("item", tag, (desc + " " + ln.strip()).strip())
        elif indent >= 3 and blocks and blocks[-1][0] == "bullet":
            blocks[-1] = ("bullet", blocks[-1][1] + " " + ln.strip())
        elif indent == 2 and ln.strip().startswith("- "):
            blocks.append(("bullet", ln.strip()[2:]))
        elif indent == 2 and m:
            blocks.append(("item", m.group(1).strip(), (m.group(2) or "").strip()))
        elif blocks and blocks[-1][0] == "para":
            blocks[-1] = ("para", blocks[-1][1] + "\n" + ln.strip())
        else:
            blocks.append(("para", ln.strip()))
    return blocks


def render_blocks(blocks):
    out = []
    for b in blocks:
        if b[0] == "blank":
            continue
        if b[0] == "usage":
            out += [".SS \"" + esc(b[1][0].split(" [")[0]) + "\"", ".nf"]
            out += [esc(x) for x in b[1]] + [".fi"]
        elif b[0] == "bullet":
            out += [".IP \\(bu 2", esc(b[1])]
        elif b[0] == "para":
            out += [".PP"] + [esc(x) for x in b[1].split("\n")]
        else:
            out += [".TP", "\\fB" + esc(b[1]) + "\\fR"]
            if b[2]:
                out.append(esc(b[2]))
    return out


def render_conf(blocks):
    """The settings of the configuration file: the long options that are settings."""
    out = []
    for b in blocks:
        if b[0] != "item":
            continue
        names = re.findall(r"--([a-z0-9-]+)(?:\s+([A-Z:_]+))?", b[1])
        keep = [(n, v) for n, v in names if n not in CONF_SKIP]
        if not keep:
            continue
        tag = ", ".join("%s = %s" % (n, v or "true|false") for n, v in keep)
        out += [".TP", "\\fB" + esc(tag) + "\\fR", esc(b[2])]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", required=True)
    ap.add_argument("--section", required=True)
    ap.add_argument("--summary", required=True)
    ap.add_argument("--extra")
    ap.add_argument("--conf", action="store_true")
    ap.add_argument("--version", default="")
    ap.add_argument("--also", action="append", default=[])
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("cmd", nargs="+")
    a = ap.parse_args()
    # a sanitizer build runs its binaries here too: no leak report may fail the build
    env = dict(os.environ, LC_ALL="C", ASAN_OPTIONS="detect_leaks=0")
    def run_help(cmd):
        return subprocess.run(cmd + ["--help"], check=True, capture_output=True, text=True,
                              env=env).stdout

    syn, body = split_help(run_help(a.cmd))
    blocks = parse_body(body)
    for more in a.also:
        blocks += parse_body(run_help(a.cmd[:1] + more.split()).split("\n"))
    date = os.environ.get("SOURCE_DATE_EPOCH")
    out = ['.\\" Generated by man/mangen.py from "%s --help": edit the --help text, not this file.'
           % " ".join([os.path.basename(a.cmd[0])] + a.cmd[1:]),
           '.TH "%s" "%s" "" "veritee %s" "Veritee"' % (a.name.upper(), a.section, a.version),
           ".SH NAME", "%s \\- %s" % (esc(a.name), esc(a.summary))]
    if a.conf:
        out += [".SH SYNOPSIS", ".B /etc/veritee/broker.conf", ".SH DESCRIPTION",
                ".PP", "The configuration file of", ".BR veritee\\-broker (8),",
                "read with \\fB\\-\\-config\\fR \\fIFILE\\fR.",
                "One setting per line, \\fIname\\fR \\fB=\\fR \\fIvalue\\fR;",
                "a line starting with \\fB#\\fR is a comment; blank lines are ignored.",
                "Unknown names and malformed lines are errors.",
                "The names are the daemon's long options, which override the file;",
                "\\fBroot\\-ca\\fR may be repeated.",
                ".SH SETTINGS"] + render_conf(blocks)
    else:
        out += [".SH SYNOPSIS", ".nf"] + [esc(s) for s in syn] + [".fi", ".SH DESCRIPTION"]
        out += render_blocks(blocks)
    if a.extra:
        with open(a.extra, encoding="utf-8") as f:
            out += [ln.rstrip("\n") for ln in f if not ln.startswith('.\\"')]
    with open(a.output + ".tmp", "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")
    os.replace(a.output + ".tmp", a.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
