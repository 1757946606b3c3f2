#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Debian packages, end to end: build them with dpkg-buildpackage from a copy of the source
# tree, lintian (no errors), install the five packages into this machine, check the broker's
# user, directories and modes and the manual pages, run the demo (and the RA-TLS demo)
# against the installed binaries in /usr/bin, purge, and check that nothing is left behind
# (files, user, group, directories).
# It changes the machine (packages, a system user) and takes long: it runs only as root and
# with VT_DEB_TEST=1 (else skipped, exit 77). Build tools: scripts/deps.sh (debhelper, lintian).
set -u
src=${VERITEE_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
if [ "$(id -u)" -ne 0 ] || [ "${VT_DEB_TEST:-0}" != 1 ]; then
  echo "skipped: the Debian package test installs packages into this machine; run it as root with VT_DEB_TEST=1"
  exit 77
fi
PKGS="libveritee0 libveritee-dev veritee veritee-broker veritee-agent"
pass=0 fail=0
ok() { echo "ok: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
finish() { echo "$pass passed, $fail failed"; [ $fail -eq 0 ]; exit $?; }
for t in dpkg-buildpackage dh lintian; do
  command -v $t >/dev/null || { bad "$t missing (scripts/deps.sh installs it)"; finish; }
done
for p in $PKGS; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "installed"; then
    bad "$p is already installed: purge it first (dpkg --purge $PKGS)"; finish
  fi
done
getent passwd veritee-broker >/dev/null && { bad "user veritee-broker exists before the test"; finish; }

W=$(mktemp -d /tmp/veritee-deb.XXXXXX)
installed=0
# a failed run does not leave the packages installed
trap '[ $installed -eq 1 ] && dpkg --purge $PKGS >/dev/null 2>&1; rm -rf "$W"' EXIT
# Everything named *veritee* in the directories packages touch (other processes may install
# other things meanwhile: only our names count); caches and logs aside.
snapshot() {
  find /etc /usr /lib /var/lib /opt -xdev \( -path /var/lib/dpkg -o -path /var/lib/apt \
    -o -path /var/lib/systemd -o -path /var/lib/ucf -o -path /var/lib/man-db \
    -o -path /var/lib/postgresql -o -path /usr/lib/python3 \) -prune -o -print 2>/dev/null | \
    grep -i veritee | sort
}
snapshot > "$W/before"

# 1. build from a copy of the tree (dpkg-buildpackage writes the .debs into the parent)
mkdir "$W/src"
(cd "$src" && git ls-files -co --exclude-standard 2>/dev/null || find . -type f -not -path './build*' -not -path './.git/*') | \
  grep -v -E '^(\./)?(build|obj-)' | (cd "$src" && tar -cf - -T -) | (cd "$W/src" && tar -xf -)
rev=$(git -C "$src" describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)
if (cd "$W/src" && VT_GIT_REV=$rev DEB_BUILD_OPTIONS="parallel=$(nproc)" dpkg-buildpackage -us -uc -b) >"$W/build.log" 2>&1; then
  ok "dpkg-buildpackage -us -uc -b"
else
  tail -40 "$W/build.log"; bad "dpkg-buildpackage failed (log above)"; finish
fi
debs=
for p in $PKGS; do
  d=$(ls "$W/${p}_"*.deb 2>/dev/null)
  if [ -n "$d" ]; then ok "package $p built"; debs="$debs $d"; else bad "package $p not built"; fi
done
if lintian --fail-on error "$W"/*.changes >"$W/lintian.log" 2>&1; then
  ok "lintian: no errors ($(grep -c '^W:' "$W/lintian.log") warnings)"
else
  cat "$W/lintian.log"; bad "lintian reports errors"
fi

# 2. install
if DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $debs >"$W/install.log" 2>&1; then
  ok "installed: $PKGS"; installed=1
  for p in $PKGS; do dpkg -L "$p"; done | sort -u > "$W/owned"
else
  installed=1
  tail -30 "$W/install.log"; bad "install failed"; finish
fi
v=$(/usr/bin/veritee --version)
case $v in "veritee 0."*" (git $rev)") ok "veritee --version: $v" ;; *) bad "veritee --version: $v" ;; esac
/usr/bin/veritee-broker --version | grep -q '^veritee-broker 0\.' && ok "veritee-broker --version" || bad "veritee-broker --version"
/usr/bin/veritee-agent --version | grep -q '^veritee-agent 0\.' && ok "veritee-agent --version" || bad "veritee-agent --version"
getent passwd veritee-broker >/dev/null && ok "system user veritee-broker" || bad "no user veritee-broker"
[ "$(stat -c '%a %U %G' /var/lib/veritee-broker 2>/dev/null)" = "700 veritee-broker veritee-broker" ] &&
  ok "/var/lib/veritee-broker 0700 veritee-broker" || bad "/var/lib/veritee-broker: $(stat -c '%a %U %G' /var/lib/veritee-broker 2>&1)"
[ "$(stat -c '%a %U %G' /etc/veritee 2>/dev/null)" = "750 root veritee-broker" ] &&
  ok "/etc/veritee 0750 root:veritee-broker" || bad "/etc/veritee: $(stat -c '%a %U %G' /etc/veritee 2>&1)"
[ "$(stat -c '%a %U' /etc/veritee/master.key 2>/dev/null)" = "600 root" ] &&
  ok "/etc/veritee/master.key 0600 root" || bad "/etc/veritee/master.key: $(stat -c '%a %U' /etc/veritee/master.key 2>&1)"
[ -f /etc/veritee/broker.conf ] && ok "/etc/veritee/broker.conf" || bad "no /etc/veritee/broker.conf"
[ -f /lib/systemd/system/veritee-broker.service ] && ok "systemd unit" || bad "no systemd unit"
for m in veritee veritee-verify veritee-admin veritee-broker veritee-agent veritee-broker.conf; do
  man -w "$m" >/dev/null 2>&1 && ok "man $m" || bad "man $m: not found"
done
MANWIDTH=80 man veritee-broker 2>/dev/null | grep -q -- '--kbs-listen' && ok "man veritee-broker shows the options" ||
  bad "man veritee-broker does not show --kbs-listen"
pkg-config --exists veritee && [ "$(pkg-config --modversion veritee)" = "$(/usr/bin/veritee version | awk '{print $2}')" ] &&
  ok "pkg-config veritee" || bad "pkg-config veritee"
# the installed library and headers build and run a program
cat > "$W/t.c" <<'C'
#include <stdio.h>
#include <veritee/veritee.h>
int main(void) { printf("%s\n", vt_strerror(VT_OK)); return 0; }
C
if cc -o "$W/t" "$W/t.c" $(pkg-config --cflags --libs veritee) && "$W/t" >/dev/null &&
   ldd "$W/t" | grep -qE 'libveritee\.so\.0 => /(usr/)?lib/'; then
  ok "a program builds against libveritee-dev and runs on libveritee.so.0"
else
  bad "building against the installed library"
fi

# 3. the demos against the installed binaries
if (cd "$W" && "$src/scripts/ratls_demo.sh" /usr/bin) >"$W/ratls.log" 2>&1; then ok "RA-TLS demo on /usr/bin"
else tail -20 "$W/ratls.log"; bad "RA-TLS demo on /usr/bin"; fi
if (cd "$W" && "$src/demo/demo.sh" /usr/bin) >"$W/demo.log" 2>&1; then ok "demo on /usr/bin"
else tail -30 "$W/demo.log"; bad "demo on /usr/bin"; fi

# 4. purge, and nothing left behind
if dpkg --purge $PKGS >"$W/purge.log" 2>&1; then ok "purged"; installed=0; else cat "$W/purge.log"; bad "purge failed"; fi
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "installed\|config-files" && bad "$p still known to dpkg"
done
getent passwd veritee-broker >/dev/null && bad "user veritee-broker left behind" || ok "user removed"
getent group veritee-broker >/dev/null && bad "group veritee-broker left behind" || ok "group removed"
snapshot > "$W/after"
while IFS= read -r f; do
  [ "$f" = /. ] && continue
  if [ -e "$f" ] && ! [ -d "$f" ]; then bad "left behind: $f"; fi
done < "$W/owned"
for d in /etc/veritee /var/lib/veritee-broker /run/veritee-broker; do
  [ -e "$d" ] && bad "left behind: $d"
done
left=$(diff "$W/before" "$W/after")
if [ -z "$left" ]; then ok "nothing left behind"; else echo "$left" | head -30; bad "the system differs after purge"; fi
finish
