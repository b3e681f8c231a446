#!/usr/bin/env bash
# Fresh machine → the whole test suite (installs the test prerequisites itself). Extra args go to deno test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh test
deno install --frozen >/dev/null
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
exec deno task test "$@"
