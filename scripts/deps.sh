#!/usr/bin/env bash
# Installs what jumphost needs on Debian/Ubuntu (as root), idempotently.
#   scripts/deps.sh run    deno, PostgreSQL server binaries, ffmpeg, openssh-client, libssl3 (the SSH proxy's
#                          packet crypto loads its libcrypto.so.3 through FFI; node:crypto without it)
#   scripts/deps.sh test   + everything the test suite drives: sshd, xrdp, freerdp, Xvfb, Chromium, asciinema …,
#                          mmdebstrap and systemd-nspawn (tests/systemd_install_test.ts boots a systemd root),
#                          ssh-audit (tests/ssh_audit_test.ts), sudo, passwd and vim (tests/ssh_echo_mask_test.ts),
#                          slapd + ldap-utils (tests/directory_ldap_test.ts), haproxy (tests/proxy_protocol_test.ts),
#                          age (encrypted recordings decrypted with the real CLI: recorder/recording_file_test.ts …),
#                          patroni + etcd-server (tests/patroni_failover_test.ts)
set -euo pipefail
mode="${1:-run}"
say() { printf '==> %s\n' "$*" >&2; }

run_pkgs=(postgresql ffmpeg openssh-client ca-certificates libssl3)
test_pkgs=(openssh-server xrdp xorgxrdp freerdp2-x11 freerdp2-shadow-x11 winpr-utils xvfb x11-apps x11-utils xterm
  imagemagick chromium asciinema iproute2 procps util-linux curl python3 tigervnc-standalone-server x11-xserver-utils openbox xauth
  tmux mmdebstrap systemd-container libpam-oath oathtool ssh-audit sudo passwd vim slapd ldap-utils haproxy age
  patroni etcd-server)
pkgs=("${run_pkgs[@]}")
[ "$mode" = test ] && pkgs+=("${test_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    say "missing packages: ${missing[*]} (run as root to install them)"; exit 1
  fi
  say "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=300 update -qq
  # no services are started by package scripts: jumphost and the tests start what they need themselves
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v deno >/dev/null 2>&1; then
  command -v npm >/dev/null 2>&1 || { say "npm is needed to install deno (apt-get install npm)"; exit 1; }
  say "installing deno from npm"
  npm install -g --allow-scripts=deno deno@2.9.6 >/dev/null 2>&1 || npm install -g deno@2.9.6 >/dev/null
fi
deno --version | head -1 >&2
