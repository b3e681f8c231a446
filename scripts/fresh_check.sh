#!/usr/bin/env bash
# A fresh machine, checked from here: a clean Debian root (scripts/build_root.sh fresh: what a fresh machine of
# this kind has), a clean clone of the repository's committed state at REF, and the README's two commands run
# inside it with systemd-nspawn: `bash scripts/start.sh` (the console must answer HTTP, then SIGTERM must stop
# it cleanly) and `bash scripts/test.sh` through .ci/run (the same "N passed, N failed" line as CI).
#   scripts/fresh_check.sh [--ref REF] [--rebuild] [--keep] [--start-only] [--tests-only] [-- TEST ARGS]
#     --ref REF      commit, branch or tag to clone (default: main)
#     --rebuild      build the cached base root again (it is keyed by packages, apt sources and CAs)
#     --keep         keep the throwaway root (its path is printed) instead of deleting it
#     --start-only / --tests-only   run only one of the two commands
#     -- TEST ARGS   run `bash scripts/test.sh TEST ARGS` (e.g. test files) instead of the whole .ci/run
# Not part of CI (about 8 minutes here; the first run builds the root, about 1 minute). Needs root; installs mmdebstrap and systemd-container when missing.
# The container shares this machine's network: start.sh's fixed ports (2222, 33389, 8080) are replaced by
# free ones (JUMPHOST_*_LISTEN) when taken here; the tests choose free ports themselves.
set -uo pipefail
ref=main rebuild=() keep=0 do_start=1 do_tests=1 test_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --ref) ref="$2"; shift ;;
    --ref=*) ref="${1#*=}" ;;
    --rebuild) rebuild=(--rebuild) ;;
    --keep) keep=1 ;;
    --start-only) do_tests=0 ;;
    --tests-only) do_start=0 ;;
    --) shift; test_args=("$@"); break ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "fresh_check.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
say() { printf '\n==> %s\n' "$*"; }
die() { printf 'fresh_check.sh: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (it builds a Debian root and runs systemd-nspawn)"
t0=$(date +%s)
elapsed() { local s=$(($(date +%s) - $1)); printf '%dm%02ds' $((s / 60)) $((s % 60)); }

repo="$(cd "$(dirname "$0")/.." && git rev-parse --show-toplevel)" || die "not inside a git checkout"
commit=$(git -C "$repo" rev-parse --verify --quiet "$ref^{commit}") || die "no commit $ref in $repo"

missing=()
command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
command -v systemd-nspawn >/dev/null || missing+=(systemd-container)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null || die "could not install ${missing[*]}"
fi

say "base root (scripts/build_root.sh fresh)"
base=$(bash "$repo/scripts/build_root.sh" "${rebuild[@]}" fresh) || die "building the root failed"
echo "$base"

work=$(mktemp -d /var/tmp/jumphost-fresh-check.XXXXXX)
root="$work/root"
cleanup() {
  if [ "$keep" = 1 ]; then echo "kept the root: $root"; else rm -rf "$work"; fi
}
trap cleanup EXIT
say "throwaway copy of the root, clone of $ref ($commit)"
tc=$(date +%s)
cp -a "$base" "$root" || die "copying the root failed"
rm -f "$root/.jumphost-root-complete"
# the machine kind's npm configuration (npm trusts the system CAs: HTTPS goes through this machine's CA)
for f in /etc/npmrc /usr/etc/npmrc; do [ -f "$f" ] && mkdir -p "$root$(dirname "$f")" && cp "$f" "$root$f"; done
# committed state only: a clone, never the working tree
mkdir -p "$root/work"
git clone --quiet --no-checkout "$repo" "$root/work/jumphost" || die "git clone failed"
git -C "$root/work/jumphost" -c advice.detachedHead=false checkout --quiet --detach "$commit" ||
  die "checkout of $commit failed"
echo "copied and cloned in $(elapsed "$tc"): $(git -C "$root/work/jumphost" log -1 --format='%h %s' | cut -c1-100)"

# the CA environment this machine's sessions have (HTTPS clients: curl, git, node, deno)
ca=/etc/ssl/certs/ca-certificates.crt
machine="jhfresh-$$"
nspawn=(systemd-nspawn -q --register=no --machine="$machine" --keep-unit --resolv-conf=copy-host --as-pid2 --capability=all --console=pipe
  --kill-signal=SIGTERM -D "$root" --chdir=/work/jumphost
  --setenv=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  --setenv=NODE_EXTRA_CA_CERTS=$ca --setenv=SSL_CERT_FILE=$ca --setenv=CURL_CA_BUNDLE=$ca
  --setenv=GIT_SSL_CAINFO=$ca --setenv=DENO_TLS_CA_STORE=system,mozilla)
# nspawn complains that /run here is not a tmpfs; it is harmless
# and leaves /run/systemd/nspawn/propagate/<machine> behind, which is removed after each run
quiet_nspawn() {
  local rc
  "${nspawn[@]}" "$@" 2> >(grep -v 'Attempted to remove disk file system' >&2)
  rc=$?
  rmdir "/run/systemd/nspawn/propagate/$machine" 2>/dev/null
  return $rc
}

port_free() { ! ss -Htln "sport = :$1" | grep -q .; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_result="not run" start_time="-"
if [ "$do_start" = 1 ]; then
  say "bash scripts/start.sh (inside the fresh root)"
  ts=$(date +%s)
  ports=()
  for spec in SSH:2222 RDP:33389 WEB:8080; do
    name=${spec%%:*} port=${spec#*:}
    if port_free "$port"; then ports+=("$name=$port"); else
      port=$(free_port); ports+=("$name=$port"); echo "port ${spec#*:} is taken here: $name on $port"
    fi
  done
  declare -A P
  for p in "${ports[@]}"; do P[${p%%=*}]=${p#*=}; done
  # the driver runs inside: start.sh as the README says, the console answers, SIGTERM to start.sh's
  # process (deno task, which start.sh execs) stops everything, exit code 0, no process left over
  cat >"$root/root/start_check.sh" <<EOF
#!/bin/bash
cd /work/jumphost
export JUMPHOST_SSH_LISTEN=0.0.0.0:${P[SSH]} JUMPHOST_RDP_LISTEN=0.0.0.0:${P[RDP]} JUMPHOST_WEB_LISTEN=127.0.0.1:${P[WEB]}
bash scripts/start.sh >/root/start.log 2>&1 &
pid=\$!
t=\$(date +%s)
code=000
while kill -0 \$pid 2>/dev/null && [ \$((\$(date +%s) - t)) -lt 600 ]; do
  code=\$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://127.0.0.1:${P[WEB]}/login) || true
  [ "\$code" != 000 ] && break
  sleep 1
done
echo "console http://127.0.0.1:${P[WEB]}/login answered HTTP \$code after \$((\$(date +%s) - t)) s"
sleep 2
kill -TERM \$pid 2>/dev/null
ts=\$(date +%s)
wait \$pid; rc=\$?
echo "start.sh exited \$rc \$((\$(date +%s) - ts)) s after SIGTERM"
sleep 1
left=""
for c in /proc/[0-9]*/cmdline; do
  cmd=\$(tr '\\0' ' ' <"\$c" 2>/dev/null) || continue
  [[ "\$cmd" =~ main\.ts\ serve|bin/postgres ]] && left+="\${c//[^0-9]/} \$cmd"\$'\\n'
done
tail -n 15 /root/start.log | cut -c1-300
ok=1
[[ "\$code" =~ ^[23] ]] || { echo "FAIL: the console did not answer 2xx/3xx (got \$code)"; ok=0; }
[ "\$rc" = 0 ] || { echo "FAIL: start.sh exited \$rc after SIGTERM"; ok=0; }
[ -z "\$left" ] || { echo "FAIL: processes left after SIGTERM:"; echo "\$left"; ok=0; }
grep -q 'embedded PostgreSQL stopped' /root/start.log || { echo "FAIL: no 'embedded PostgreSQL stopped' in the log"; ok=0; }
[ \$ok = 1 ] && echo "start.sh: PASS" || { echo "start.sh: FAIL"; exit 1; }
EOF
  if quiet_nspawn bash /root/start_check.sh; then start_result=PASS; else start_result=FAIL; fi
  start_time=$(elapsed "$ts")
fi

tests_result="not run" tests_time="-" counts="-" failures=""
if [ "$do_tests" = 1 ]; then
  say "bash scripts/test.sh through .ci/run (inside the fresh root)"
  tt=$(date +%s)
  log="$work/ci.log"
  # .ci/run takes no arguments: with deno test arguments, scripts/test.sh is run with them instead
  if [ ${#test_args[@]} -gt 0 ]; then
    quiet_nspawn bash scripts/test.sh "${test_args[@]}" 2>&1 | tee "$log"
  else
    quiet_nspawn bash .ci/run 2>&1 | tee "$log"
  fi
  rc=${PIPESTATUS[0]}
  tests_time=$(elapsed "$tt")
  plain=$(sed 's/\x1b\[[0-9;]*m//g; s/\r$//' "$log")
  counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' <<<"$plain" | tail -1)
  [ -n "$counts" ] || counts=$(grep -E '^(ok|FAILED) \| [0-9]+ passed' <<<"$plain" | tail -1)
  failures=$(sed -n '/^ *FAILURES *$/,$p' <<<"$plain" | grep -E ' => \./' | sort -u)
  if [ "$rc" = 0 ]; then tests_result=PASS; else tests_result="FAIL (exit $rc)"; fi
  cp "$log" "/var/tmp/jumphost-fresh-check-last-ci.log" 2>/dev/null || true
fi

say "fresh machine check of $ref ($commit)"
echo "start.sh   $start_result ($start_time)"
echo ".ci/run    $tests_result ($tests_time): ${counts:-no summary line}"
[ -n "$failures" ] && { echo "failed tests:"; echo "$failures" | sed 's/^/  /'; }
[ "$do_tests" = 1 ] && echo "full CI log: /var/tmp/jumphost-fresh-check-last-ci.log"
echo "total      $(elapsed "$t0")"
[ "$start_result" != FAIL ] && [[ "$tests_result" != FAIL* ]]
