#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ABI gate: the dynamic symbols libveritee.so exports, compared with the committed list
# abi/libveritee.syms (first line "# soname libveritee.so.N", then one symbol per line).
# A listed symbol missing from the library fails the test unless the soname was bumped (then
# regenerate the list). New symbols pass and are reported: add them to the list
# (abi_test.sh --update writes it).
# usage: abi_test.sh [--update] [LIB]   (LIB default: $VERITEE_BIN/../lib/libveritee.so)
set -u
update=0
if [ "${1:-}" = "--update" ]; then update=1; shift; fi
lib=${1:-${VERITEE_BIN:-build/bin}/../lib/libveritee.so}
src=${VERITEE_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
list=$src/abi/libveritee.syms
soname=$(objdump -p "$lib" | awk '$1 == "SONAME" { print $2 }')
syms=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVWiu]$/ { print $3 }' | sed 's/@.*//' | sort -u)
if [ $update -eq 1 ]; then
  { echo "# soname $soname"; echo "$syms"; } > "$list"
  echo "wrote $list ($(echo "$syms" | wc -l) symbols, $soname)"; exit 0
fi
[ -n "$soname" ] || { echo "0 passed, 1 failed: $lib has no SONAME"; exit 1; }
[ -n "$syms" ] || { echo "0 passed, 1 failed: $lib exports nothing"; exit 1; }
[ -r "$list" ] || { echo "0 passed, 1 failed: $list missing"; exit 1; }
want_soname=$(sed -n 's/^# soname //p' "$list")
want=$(grep -v '^#' "$list" | sort -u)
gone=$(comm -23 <(echo "$want") <(echo "$syms"))
new=$(comm -13 <(echo "$want") <(echo "$syms"))
if [ -n "$new" ]; then
  echo "new exported symbols (add them to abi/libveritee.syms: abi_test.sh --update):"
  echo "$new" | sed 's/^/  + /'
fi
if [ "$soname" != "$want_soname" ]; then
  echo "soname $want_soname -> $soname: the ABI was bumped; regenerate abi/libveritee.syms"
  [ -n "$gone" ] && echo "$gone" | sed 's/^/  - /'
  echo "1 passed, 0 failed"; exit 0
fi
if [ -n "$gone" ]; then
  echo "public symbols removed without a soname bump ($soname): restore them, or bump"
  echo "SOVERSION in CMakeLists.txt and regenerate abi/libveritee.syms"
  echo "$gone" | sed 's/^/  - /'
  echo "0 passed, 1 failed"; exit 1
fi
echo "$(echo "$want" | wc -l) symbols of $soname present"
echo "1 passed, 0 failed"
