#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Source hygiene gate (STYLE.md section 12): banned libc calls anywhere in our C sources, and
# memcmp anywhere in src/ and tools/ (use vti_ct_eq or explain why a public comparison is fine
# with a "lint: public <why>" comment on the same line).
set -u
src=${VERITEE_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$src"
fail=0
banned='\b(sprintf|vsprintf|strcpy|strcat|strncpy|strtok|atoi|atol|gets|alloca)[[:space:]]*\('
hits=$(grep -rnE "$banned" --include='*.c' --include='*.h' src tools tests bench 2>/dev/null | grep -v 'lint: ok')
if [ -n "$hits" ]; then
  echo "banned functions:"; echo "$hits"; fail=1
fi
# Every folder of src/ and tools/ (.c and .h); unit tests kept next to a daemon's sources
# (src/*/tests/, src/*/fuzz/) compare test outputs, not secrets, and are left out.
mc=$(grep -rnE '\bmemcmp[[:space:]]*\(' --include='*.c' --include='*.h' --exclude-dir=tests --exclude-dir=fuzz \
  src tools 2>/dev/null | grep -v 'lint: public')
if [ -n "$mc" ]; then
  echo "memcmp in security code (use vti_ct_eq, or mark a public comparison with 'lint: public'):"; echo "$mc"; fail=1
fi
# Include direction (DESIGN.md section 2): the agent and the tool use src/proto and the KBS
# client library (src/kbs_client), never broker, daemon or KBS server internals.
inc=$(grep -rnE '#include "(broker|brokerd|kbs)/' --include='*.c' --include='*.h' src/agent tools 2>/dev/null)
if [ -n "$inc" ]; then
  echo "src/agent or tools/ includes broker or KBS server headers:"; echo "$inc"; fail=1
fi
# Layering of the broker (docs/broker-internals.md): only the daemon (src/brokerd) wires in
# the KBS front end; neither the broker core nor src/kbs includes the daemon's headers.
kl=$(grep -ln '#include "kbs/' src/broker/*.[ch] 2>/dev/null)
dl=$(grep -ln '#include "brokerd/' src/kbs/*.[ch] src/broker/*.[ch] 2>/dev/null)
if [ -n "$kl$dl" ]; then
  echo "broker layering (core <- kbs <- daemon) broken by:"; echo "$kl $dl"; fail=1
fi
# Names (ARCHITECTURE.md): a non-static function defined in src/ with the public vt_ prefix
# must be declared in include/veritee/ (the plug-in entry point vt_plugin_init aside); internal
# ones are vti_ (library) or the component's prefix.
pub=$(grep -rhoE '\bvt_[a-z0-9_]+' include/veritee | sort -u)
defs=$(grep -rhE '^[a-z][a-z0-9_ *]*\bvt_[a-z0-9_]+\(' --include='*.c' src 2>/dev/null | grep -v '^static' | \
  sed -E 's/^[^(]*\b(vt_[a-z0-9_]+)\(.*/\1/' | sort -u)
np=$(comm -23 <(echo "$defs") <(echo "$pub") | grep -v '^vt_plugin_init$' | grep -v '^$')
if [ -n "$np" ]; then
  echo "internal functions with the public vt_ prefix (rename to vti_):"; echo "$np"; fail=1
fi
if [ $fail -eq 0 ]; then echo "1 passed, 0 failed"; else echo "0 passed, 1 failed"; fi
exit $fail
