#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Function-length gate (STYLE.md, ARCHITECTURE.md): no function in src/ or tools/ is longer than
# 120 lines, counted from the first line of its signature to its closing brace. Functions are
# found the way our style writes them: the signature starts in column 0, the body's "{" and
# "}" are alone in column 0.
set -u
src=${VERITEE_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$src" || exit 1
MAX=120

# Known long functions, one per line, file:function (none).
PENDING=''

# awk program printing "file:line:function:length" for every function of the files it reads.
FUNCLEN_AWK='
FNR == 1 { sig = ""; sigline = 0; inbody = 0 }
{
    if (!inbody) {
        if ($0 ~ /^[A-Za-z_]/ && $0 !~ /;[[:space:]]*$/ && $0 !~ /^typedef/ &&
            $0 !~ /^(struct|enum|union)[[:space:]]+[A-Za-z_0-9]+[[:space:]]*\{?[[:space:]]*$/) {
            sig = $0; sigline = FNR
        } else if ($0 ~ /^[[:space:]]+[^[:space:]]/ && sigline) {
            sig = sig " " $0
        } else if ($0 ~ /^\{/ && sigline) {
            inbody = 1
            name = sig; sub(/\(.*/, "", name); sub(/.*[^A-Za-z0-9_]/, "", name)
        } else {
            sigline = 0
        }
    } else if ($0 ~ /^\}/) {
        print FILENAME ":" sigline ":" name ":" (FNR - sigline + 1)
        inbody = 0; sigline = 0
    }
}'
func_lengths() { awk "$FUNCLEN_AWK" "$@"; }

check_function_length() {
    local bad=0 file line name len all
    all=$(find src tools -name '*.c' -print0 | LC_ALL=C sort -z | xargs -0 awk "$FUNCLEN_AWK") || return 1
    [ -n "$all" ] || { echo "no functions found"; return 1; }
    while IFS=: read -r file line name len; do
        [ "$len" -gt "$MAX" ] || continue
        if printf '%s\n' "$PENDING" | grep -qxF "$file:$name"; then
            echo "pending: $file:$line $name is $len lines"
        else
            echo "$file:$line $name is $len lines (max $MAX: split it, one function per step)"
            bad=1
        fi
    done <<< "$all"
    for entry in $PENDING; do
        local f=${entry%%:*} fn=${entry#*:}
        if ! func_lengths "$f" 2>/dev/null | awk -F: -v fn="$fn" -v m="$MAX" '$3 == fn && $4 > m { found = 1 } END { exit !found }'; then
            echo "note: pending entry no longer needed (delete it from PENDING): $entry"
        fi
    done
    return $bad
}

# Sanity check of the counter itself, so a parsing slip cannot pass everything silently.
check_counter() {
    local t
    t=$(mktemp) || return 1
    {
        printf 'static int\nf(int a,\n  int b)\n{\n'
        for _ in $(seq 1 117); do printf '    a++;\n'; done
        printf '}\nstruct s {\n    int x;\n};\nenum e e_of(int x)\n{\n    return x;\n}\n'
    } > "$t"
    local got
    got=$(func_lengths "$t" | cut -d: -f3,4 | tr '\n' ' ')
    rm -f "$t"
    if [ "$got" != "f:121 e_of:4 " ]; then
        echo "function counter is broken: got '$got', want 'f:121 e_of:4 '"
        return 1
    fi
}

pass=0
fail=0
for t in check_counter check_function_length; do
    if out=$($t 2>&1); then
        pass=$((pass + 1)); echo "ok   $t"
    else
        fail=$((fail + 1)); echo "FAIL $t"
    fi
    [ -n "$out" ] && echo "$out" | sed 's/^/    /'
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
