#!/usr/bin/env bash
# Fresh machine → running jump host on the embedded default (its own PostgreSQL under ./data, no config).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh run
deno install --frozen >/dev/null
exec deno task start "$@"
