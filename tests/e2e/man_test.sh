#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Manual pages against --help: every built page exists (veritee(1), veritee-CMD(1) for every
# command `veritee --help` lists, veritee-broker(8), veritee-agent(8), veritee-broker.conf(5)),
# renders without groff warnings, and names every option its binary's --help prints
# (nested commands included: sim azure-vtpm). The pages are generated from --help at build
# time (man/mangen.py), so a failure here means the generator lost something.
set -u
bin=${VERITEE_BIN:-build/bin}
man=$bin/../man
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
if [ ! -f "$man/veritee.1" ]; then
  echo "no manual pages in $man (configured with VT_MAN=OFF or without python3)"; exit 77
fi
# page_has PAGE HELP-COMMAND...: every --option and -o of the help text is in the page.
page_has() {
  local page=$1; shift
  [ -f "$man/$page" ] || { bad "$page missing"; return; }
  local text opts missing=""
  text=$(sed 's/\\-/-/g; s/\\e/\\/g' "$man/$page")
  opts=$("$@" --help | grep -oE '(^|[^A-Za-z0-9-])--?[a-z][a-z0-9-]*' | grep -oE -- '--?[a-z][a-z0-9-]*' | sort -u)
  [ -n "$opts" ] || { bad "$page: no options in '$* --help'"; return; }
  for o in $opts; do
    grep -qF -- "$o" <<<"$text" || missing="$missing $o"
  done
  if [ -n "$missing" ]; then bad "$page lacks options of '$* --help':$missing"; else ok; fi
}
page_has veritee.1 "$bin/veritee"
cmds=$("$bin/veritee" --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { on = 0 }')
[ "$(echo "$cmds" | wc -w)" -ge 8 ] && ok || bad "too few commands in 'veritee --help': $cmds"
for c in $cmds; do
  page_has "veritee-$c.1" "$bin/veritee" "$c"
done
page_has veritee-sim.1 "$bin/veritee" sim azure-vtpm
page_has veritee-sim.1 "$bin/veritee" sim gpu
page_has veritee-cert.1 "$bin/veritee" cert create
page_has veritee-cert.1 "$bin/veritee" cert show
if [ -x "$bin/veritee-broker" ]; then
  page_has veritee-broker.8 "$bin/veritee-broker"
  page_has veritee-agent.8 "$bin/veritee-agent"
  # every setting of the configuration file is a long option of the daemon: the settings page
  # lists each option except the command-only ones
  conf=$(sed 's/\\-/-/g' "$man/veritee-broker.conf.5")
  for o in $("$bin/veritee-broker" --help | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u); do
    case $o in --config|--help|--version|--gen-master-key|--rekey) continue ;; esac
    grep -qF -e "fB${o#--} = " -e ", ${o#--} = " <<<"$conf" || { bad "veritee-broker.conf.5 lacks setting ${o#--}"; continue; }
    ok
  done
fi
# groff warnings (as lintian's groff-message check)
if command -v groff >/dev/null; then
  for p in "$man"/*.[158]; do
    # lintian ignores line-filling warnings too
    w=$(LC_ALL=C.UTF-8 groff -man -Tutf8 -wmac -z "$p" 2>&1 | grep -vE "cannot adjust line|can't break line")
    if [ -n "$w" ]; then bad "$(basename "$p"): $w"; else ok; fi
  done
fi
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
