#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Layering gate (ARCHITECTURE.md, ../shared/DESIGN.md section 2): builds the folder-level include
# graph of src/ and tools/ from every `#include "folder/..."` line and checks that
#   1. no folder includes one that directly or indirectly includes it back (no cycles);
#   2. the library folders include only library folders below them, in the order
#      util < core < crypto < evidence < endorsements < cert < {attesters, verifiers, tls} < api,
#      and never a folder above the library (proto, broker, kbs, agent, tools);
#   3. src/agent and tools/ never include broker or KBS internals (broker/*, kbs/*);
#   4. every folder under src/ has a place in that order (a new folder is added here and to
#      ARCHITECTURE.md first).
# `#include "veritee/..."` is the public API (include/) and may be used from anywhere.
# Each failure names the offending include (file:line) or the cycle.
set -u
src=${VERITEE_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$src" || exit 1
command -v python3 >/dev/null || { echo "python3 not found"; exit 77; }

# Library folders, bottom -> top; folders on the same rank may not include each other.
LIB_RANKS='util:0 core:1 crypto:2 evidence:3 endorsements:4 cert:5 attesters:6 verifiers:6 tls:6 api:7'
# Above the library (checked for cycles and rule 3 only).
UPPER='proto policy kbs_client broker kbs brokerd agent tools'

# Known exceptions, one include per line: "file included-header" (none).
PENDING=''

# All `#include "folder/..."` lines of src/ and tools/ as "file:line:folder:included-header".
includes() {
    grep -rnE --include='*.c' --include='*.h' --include='*.def' \
        '^[[:space:]]*#[[:space:]]*include[[:space:]]+"[A-Za-z0-9_]+/' src tools 2>/dev/null |
        sed -E 's|^([^:]+):([0-9]+):[[:space:]]*#[[:space:]]*include[[:space:]]+"([^"]+)".*|\1:\2:\3|' |
        awk -F: '{ split($1, p, "/"); f = (p[1] == "tools") ? "tools" : p[2];
                   split($3, q, "/"); print $1 ":" $2 ":" f ":" $3 ":" q[1] }'
}

# Runs one rule (python3 on stdin) over the include list; prints its findings, returns 1 on any.
run_rule() {
    local rule=$1
    includes | LIB_RANKS="$LIB_RANKS" UPPER="$UPPER" PENDING="$PENDING" RULE="$rule" \
        FOLDERS="$(cd src && ls -d */ | tr -d / | tr '\n' ' ')" python3 -c '
import os, sys
rule = os.environ["RULE"]
ranks = dict(kv.split(":") for kv in os.environ["LIB_RANKS"].split())
ranks = {k: int(v) for k, v in ranks.items()}
upper = os.environ["UPPER"].split()
folders = set(os.environ["FOLDERS"].split()) | {"tools"}
pending = set(tuple(l.split()) for l in os.environ["PENDING"].splitlines() if l.strip())
edges = []  # (from-folder, to-folder, "file:line", header)
seen_pending = set()
for line in sys.stdin:
    path, num, frm, hdr, to = line.rstrip("\n").split(":")
    if to not in folders or to == frm:
        continue  # veritee/ (public API), system-style paths, or the same folder
    if (path, hdr) in pending:
        seen_pending.add((path, hdr))
        if rule == ("agent" if frm in ("agent", "tools") else "cycles"):
            print("pending: %s:%s includes \"%s\"" % (path, num, hdr))
        continue
    edges.append((frm, to, path + ":" + num, hdr))
bad = 0
if rule == "cycles":
    graph = {}
    for f, t, _, _ in edges:
        graph.setdefault(f, set()).add(t)
    def path_to(a, b):  # shortest folder path a -> ... -> b, or None
        prev, todo = {a: None}, [a]
        while todo:
            n = todo.pop(0)
            for m in sorted(graph.get(n, ())):
                if m not in prev:
                    prev[m] = n
                    todo.append(m)
        if b not in prev:
            return None
        out = [b]
        while out[-1] != a:
            out.append(prev[out[-1]])
        return out[::-1]
    reported = set()
    for f, t, where, hdr in sorted(edges, key=lambda e: e[2]):
        back = path_to(t, f)
        if back is None:
            continue
        cyc = [f] + back
        key = frozenset(zip(cyc, cyc[1:]))
        if key in reported:
            continue
        reported.add(key)
        bad += 1
        print("cycle: %s" % " -> ".join(cyc))
        for a, b in zip(cyc, cyc[1:]):
            for e in edges:
                if e[0] == a and e[1] == b:
                    print("    %s includes \"%s\"" % (e[2], e[3]))
elif rule == "order":
    for f, t, where, hdr in edges:
        if f not in ranks:
            continue
        if t not in ranks:
            bad += 1
            print("library folder %s includes %s, above the library: %s includes \"%s\"" % (f, t, where, hdr))
        elif ranks[t] >= ranks[f]:
            bad += 1
            print("%s (rank %d) includes %s (rank %d), not below it: %s includes \"%s\"" %
                  (f, ranks[f], t, ranks[t], where, hdr))
elif rule == "agent":
    for f, t, where, hdr in edges:
        if f in ("agent", "tools") and t in ("broker", "kbs"):
            bad += 1
            print("%s reaches into %s internals: %s includes \"%s\"" % (f, t, where, hdr))
elif rule == "known":
    for d in sorted(folders):
        if d not in ranks and d not in upper:
            bad += 1
            print("src/%s has no place in the layer order (add it to tests/e2e/layers_test.sh and ARCHITECTURE.md)" % d)
if rule == "cycles":
    for p in sorted(pending - seen_pending):
        print("note: pending entry no longer needed (delete it from PENDING): %s %s" % p)
sys.exit(1 if bad else 0)
'
}

check_cycles() { run_rule cycles; }
check_layer_order() { run_rule order; }
check_agent_tools() { run_rule agent; }
check_known_folders() { run_rule known; }

pass=0
fail=0
for t in check_cycles check_layer_order check_agent_tools check_known_folders; do
    if out=$($t 2>&1); then
        pass=$((pass + 1))
        echo "ok   $t"
    else
        fail=$((fail + 1))
        echo "FAIL $t"
    fi
    [ -n "$out" ] && echo "$out" | sed 's/^/    /'
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
