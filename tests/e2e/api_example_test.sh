#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# docs/api/example_client.c compiles and works: built against the build tree (headers in
# include/, the static library $VERITEE_BIN/../lib/libveritee.a and its dependencies), run
# against `veritee tls-server --tee sim` on 127.0.0.1, it must print the server's verified
# measurement claim and the echo. Then `cmake --install` into a temporary prefix must install
# the headers, libraries, veritee.pc and the tool, and the example must build with
# `pkg-config --cflags --libs veritee` (shared) and `pkg-config --static` from that prefix.
. "$(dirname "$0")/tls_lib.sh"

SRC=${VERITEE_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=$(cd "$VERITEE_BIN/.." && pwd)
LIB=$BUILD/lib/libveritee.a
EX=$SRC/docs/api/example_client.c
CC=${CC:-cc}
command -v "$CC" >/dev/null || { echo "no C compiler: skipped"; exit 77; }
[ -f "$LIB" ] || { echo "no $LIB"; exit 1; }
CFLAGS=(-std=gnu11 -Wall -Wextra -Werror -Wshadow)
# Sanitizer builds: the library objects need the sanitizer runtimes too.
if nm "$LIB" 2>/dev/null | grep -q ' U __asan_'; then CFLAGS+=(-fsanitize=address,undefined); fi

# Dependencies: always OpenSSL, jansson, yajl; wolfSSL and libtss2 when the library uses them.
# libcurl and xmlsec1-openssl are not linked: the library loads them on first use (dlopen).
deps=$(pkg-config --libs openssl jansson yajl)
if nm "$LIB" 2>/dev/null | grep -q ' U wolfSSL_'; then deps="$deps $(pkg-config --libs wolfssl)"; fi
if nm "$LIB" 2>/dev/null | grep -q ' U Esys_'; then deps="$deps $(pkg-config --libs tss2-esys tss2-tctildr tss2-mu)"; fi

# ---- 1. build against the build tree ----
# shellcheck disable=SC2086
"$CC" "${CFLAGS[@]}" -I "$SRC/include" "$EX" "$LIB" $deps -lpthread -ldl -o "$work/example" \
  2>"$work/cc.err"
expect_rc "example compiles against the build tree" 0 $?
[ -s "$work/cc.err" ] && sed 's/^/    | /' "$work/cc.err" >&2

# ---- 2. run it against a sim tls-server ----
"$V" sim init "$work/sim" >/dev/null || { echo "sim init failed"; exit 1; }
M=00112233445566778899aabbccddeeff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
run_example() { # NAME BINARY [ENV...]: one run against a fresh server with measurement $M
  local name=$1 bin=$2
  shift 2
  start_server "$work/$name.log" --tee sim --sim-dir "$work/sim" --option "sim.measurement=$M" \
    --max-conns 1 || return 1
  env "$@" timeout 20 "$bin" 127.0.0.1 "$port" "$work/sim/root-ca.pem" >"$work/$name.out" \
    2>"$work/$name.err"
  expect_rc "$name: exit status" 0 $?
  expect_in "$name: verified" 'verified: yes' "$work/$name.out"
  expect_in "$name: tee" 'tee: sim (insecure' "$work/$name.out"
  expect_in "$name: measurement claim" "  measurement = $M" "$work/$name.out"
  expect_in "$name: binding claim" '  ratls.binding = true' "$work/$name.out"
  expect_in "$name: echo" 'echo: hello from example_client' "$work/$name.out"
  wait_server
  expect_rc "$name: server" 0 "$srv_rc"
}
[ -x "$work/example" ] && run_example static "$work/example"

# Without the sim root the server is refused with the precise reason.
if [ -x "$work/example" ]; then
  start_server "$work/noroot.log" --tee sim --sim-dir "$work/sim" --max-conns 1 || exit 1
  timeout 20 "$work/example" 127.0.0.1 "$port" >"$work/noroot.out" 2>"$work/noroot.err"
  expect_rc "no root: refused" 1 $?
  expect_in "no root: reason" 'peer refused: no trust anchor given for this evidence (VT_ERR_NO_ROOT, category usage)' "$work/noroot.err"
  wait_server
fi

# ---- 3. cmake --install, then pkg-config against the prefix ----
if ! command -v cmake >/dev/null || [ ! -f "$BUILD/cmake_install.cmake" ]; then
  echo "no cmake or not a CMake build tree: install checks skipped"
  finish
  exit $?
fi
PREFIX=$work/inst
cmake --install "$BUILD" --prefix "$PREFIX" >"$work/install.log" 2>&1
expect_rc "cmake --install" 0 $?
PCDIR=$(dirname "$(find "$PREFIX" -name veritee.pc | head -1)")
for f in include/veritee/veritee.h include/veritee/errors.h include/veritee/errors/core.def \
         bin/veritee; do
  if [ -e "$PREFIX/$f" ]; then ok; else bad "installed: $f missing"; fi
done
for f in libveritee.a libveritee.so libveritee.so.0 pkgconfig/veritee.pc; do
  if [ -e "$PCDIR/../$f" ]; then ok; else bad "installed: lib/$f missing"; fi
done
export PKG_CONFIG_PATH=$PCDIR
pkg-config --exists veritee
expect_rc "pkg-config finds veritee" 0 $?
# veritee.pc holds the prefix the build was configured with (CMAKE_INSTALL_PREFIX); when
# `cmake --install --prefix` puts it elsewhere, pkg-config must be told to derive the prefix
# from the file's location (--define-prefix; all paths in veritee.pc are ${prefix}-relative).
PC=(pkg-config)
if [ "$(pkg-config --variable=prefix veritee)" != "$PREFIX" ]; then
  echo "note: veritee.pc names prefix $(pkg-config --variable=prefix veritee); using --define-prefix"
  PC=(pkg-config --define-prefix)
  [ "$("${PC[@]}" --variable=includedir veritee)" = "$PREFIX/include" ]
  expect_rc "pkg-config --define-prefix: includedir in the install prefix" 0 $?
fi
# shellcheck disable=SC2046
"$CC" "${CFLAGS[@]}" "$EX" $("${PC[@]}" --cflags --libs veritee) -o "$work/example_pc" \
  2>"$work/cc_pc.err"
expect_rc "example compiles with pkg-config --cflags --libs veritee" 0 $?
[ -s "$work/cc_pc.err" ] && sed 's/^/    | /' "$work/cc_pc.err" >&2
# The static library with its private requirements (Requires.private, Libs.private) linked
# as shared libraries: fails if veritee.pc misses one the library uses (wolfssl, tss2).
mapfile -t priv < <("${PC[@]}" --print-requires-private veritee)
# shellcheck disable=SC2046
"$CC" "${CFLAGS[@]}" "$EX" $("${PC[@]}" --cflags veritee) "$PCDIR/../libveritee.a" \
  $(pkg-config --libs "${priv[@]}") $(sed -n 's/^Libs.private: //p' "$PCDIR/veritee.pc") \
  -o "$work/example_pc_static" 2>"$work/cc_pcs.err"
expect_rc "example links libveritee.a with veritee.pc's private requirements" 0 $?
[ -s "$work/cc_pcs.err" ] && sed 's/^/    | /' "$work/cc_pcs.err" >&2
[ -x "$work/example_pc" ] && run_example shared "$work/example_pc" "LD_LIBRARY_PATH=$PCDIR/.."
[ -x "$work/example_pc_static" ] && run_example pcstatic "$work/example_pc_static"

finish
