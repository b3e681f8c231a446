#!/usr/bin/env bash
# SSH proxy benchmark (loopback only). Needs root: it starts two sshd and logs in as the test OS user.
#   bench/ssh/run.sh                      # full run: 256 MiB x 3 reps, 20 setups, 500 idle sessions
#   BENCH_SIZE_MB=64 BENCH_CONC=100 bench/ssh/run.sh   # quicker
# Knobs: BENCH_SIZE_MB BENCH_REPS BENCH_SETUP_N BENCH_CONC BENCH_CONC_INFLIGHT BENCH_PTY_MB
# Results: the table on stdout, JSON in bench/ssh/work/results/.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[ "$(id -u)" = 0 ] || { echo "run.sh must run as root (starts sshd)" >&2; exit 1; }
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
cd "$HERE/../.."
exec deno run -A bench/ssh/bench_ssh.ts
