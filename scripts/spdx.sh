#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# SPDX licence lines: every tracked source file (C sources and headers, .def tables, shell,
# python, CMake, .in templates, JavaScript) carries "SPDX-License-Identifier: Apache-2.0" in
# its first lines, in the file's own comment syntax; a shebang (and a python coding line) stays
# first. Hidden directories (.ci, ...) and the fuzz corpora (data) are left out.
#
#   scripts/spdx.sh            add the line to every file lacking it (prints each file)
#   scripts/spdx.sh --check    list the files lacking it; exit 1 if any (tests/e2e/spdx_test.sh)
#   scripts/spdx.sh FILE...    add it to these files only
set -euo pipefail
ID="SPDX-License-Identifier: Apache-2.0"
cd "$(dirname "$0")/.."

# The comment style of FILE: c (/* */), hash (#), slash (//), or nothing (not a source file).
style() {
  case $1 in
    tests/fuzz/corpus/*|.*|*/.*) return ;;
    *.c|*.h|*.def|*.h.in|*.c.in) echo c ;;
    *.sh|*.py|*.cmake|*/CMakeLists.txt|CMakeLists.txt|*.pc.in) echo hash ;;
    *.mjs|*.js) echo slash ;;
    *) head -c 64 "$1" 2>/dev/null | head -n 1 | grep -qE '^#!.*(sh|bash|python3?)\b' && echo hash ;;
  esac
  return 0
}

files() {
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files
  else
    find . -type f -not -path './build*' | sed 's|^\./||'
  fi
}

lacks() { ! head -n 5 "$1" | grep -qF "$ID"; }

# Insert the line after a shebang and a python coding line, or at the top.
add() {
  local f=$1 st=$2 line skip=0
  case $st in
    c) line="/* $ID */" ;;
    hash) line="# $ID" ;;
    slash) line="// $ID" ;;
  esac
  head -n 1 "$f" | grep -q '^#!' && skip=1
  if sed -n "$((skip + 1))p" "$f" | grep -qE '^#.*coding[:=]'; then skip=$((skip + 1)); fi
  local tmp
  tmp=$(mktemp "$f.spdx.XXXXXX")
  { head -n "$skip" "$f"; echo "$line"; tail -n "+$((skip + 1))" "$f"; } > "$tmp"
  chmod --reference="$f" "$tmp"
  mv "$tmp" "$f"
  echo "$f"
}

check=0
if [ "${1:-}" = "--check" ]; then check=1; shift; fi
if [ $# -gt 0 ]; then list=$(printf '%s\n' "$@"); else list=$(files); fi
missing=0
while IFS= read -r f; do
  [ -f "$f" ] || continue
  st=$(style "$f")
  [ -n "$st" ] && lacks "$f" || continue
  missing=$((missing + 1))
  if [ $check -eq 1 ]; then echo "$f"; else add "$f" "$st"; fi
done <<<"$list"
if [ $check -eq 1 ] && [ $missing -gt 0 ]; then
  echo "$missing file(s) lack '$ID' (run scripts/spdx.sh)" >&2
  exit 1
fi
exit 0
