#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Licence gate: every tracked source file carries "SPDX-License-Identifier: Apache-2.0" in its
# first lines (scripts/spdx.sh adds it; which files count is defined there), and the licence
# texts exist.
set -u
src=${VERITEE_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$src"
fail=0
for f in LICENSE NOTICE; do
  [ -s "$f" ] || { echo "$f missing"; fail=1; }
done
grep -q "Apache License" LICENSE 2>/dev/null && grep -q "Version 2.0, January 2004" LICENSE ||
  { echo "LICENSE is not the Apache License 2.0 text"; fail=1; }
if ! out=$(scripts/spdx.sh --check 2>&1); then
  echo "source files without an SPDX licence line:"; echo "$out"; fail=1
fi
if [ $fail -eq 0 ]; then echo "1 passed, 0 failed"; else echo "0 passed, 1 failed"; fi
exit $fail
