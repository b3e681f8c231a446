#!/usr/bin/env bash
# Builds (or reuses) a clean Debian root with mmdebstrap from this machine's apt sources, and prints its path.
#   scripts/build_root.sh [--rebuild] fresh     what a fresh machine of this kind has: Node.js + npm, python3,
#                                               make, g++, git, curl, ca-certificates (tests: fresh_check.sh)
#   scripts/build_root.sh [--rebuild] systemd   systemd as PID 1 + jumphost's runtime packages, bootable with
#                                               systemd-nspawn -b (tests/systemd_install_test.ts)
# The root is cached under $JUMPHOST_ROOT_CACHE (default /var/cache/jumphost-fresh), keyed by the package
# list, the apt sources and the CA certificates; callers work on a throwaway copy (cp -a), never on it.
# This machine's extra CA certificates (/usr/local/share/ca-certificates) are installed inside, since HTTPS
# to the npm registry goes through them. Needs root, mmdebstrap (apt: mmdebstrap) and the apt network.
set -euo pipefail
rebuild=0
[ "${1:-}" = --rebuild ] && { rebuild=1; shift; }
profile="${1:-}"
say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'build_root.sh: %s\n' "$*" >&2; exit 1; }

base_pkgs=(ca-certificates debian-archive-keyring)
case "$profile" in
  fresh) pkgs=("${base_pkgs[@]}" nodejs npm python3 make g++ git curl) ;;
  # runtime packages pre-installed, so install.sh needs no network inside (the container's network is private)
  systemd) pkgs=("${base_pkgs[@]}" systemd systemd-sysv dbus postgresql ffmpeg openssh-client logrotate
    iproute2 openssl util-linux procps curl) ;;
  *) die "usage: build_root.sh [--rebuild] fresh|systemd" ;;
esac
[ "$(id -u)" = 0 ] || die "run as root (mmdebstrap builds the root with real ownership)"
command -v mmdebstrap >/dev/null || die "mmdebstrap is not installed (apt-get install mmdebstrap)"

sources=()
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; do
  [ -s "$f" ] && grep -qE '^[[:space:]]*(deb |Types:)' "$f" && sources+=("$f")
done
[ ${#sources[@]} -gt 0 ] || die "no apt sources configured on this machine"
suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
cas=(/usr/local/share/ca-certificates/*.crt)
[ -e "${cas[0]}" ] || cas=()

cache="${JUMPHOST_ROOT_CACHE:-/var/cache/jumphost-fresh}"
key=$( { echo "v1 $suite ${pkgs[*]}"; cat "${sources[@]}" ${cas[@]+"${cas[@]}"}; } | sha256sum | cut -c1-16)
root="$cache/$profile-$key"
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9 # one build at a time; a second caller waits, then reuses it
if [ "$rebuild" = 1 ] && [ -d "$root" ]; then say "removing the cached root $root"; rm -rf "$root"; fi
if [ -f "$root/.jumphost-root-complete" ]; then
  echo "$root"
  exit 0
fi

say "building the $profile root ($suite: ${pkgs[*]}) into $root"
start=$(date +%s)
tmp="$root.tmp.$$"
rm -rf "$tmp"
trap 'rm -rf "$tmp"' EXIT
hooks=()
for c in ${cas[@]+"${cas[@]}"}; do hooks+=(--customize-hook="copy-in $c /usr/local/share/ca-certificates/"); done
hooks+=(--customize-hook='chroot "$1" update-ca-certificates >/dev/null 2>&1')
if [ "$profile" = systemd ]; then
  # nothing of the image's own starts at boot but systemd's basics: the package's postgresql cluster would
  # only use memory (jumphost runs its own), and a getty would wait on a console nobody reads
  hooks+=(--customize-hook='chroot "$1" systemctl mask postgresql.service console-getty.service getty@tty1.service >/dev/null 2>&1')
  hooks+=(--customize-hook='echo jumphost-systemd-test >"$1/etc/hostname"')
fi
# the apt sources are this machine's own, and so land in the root's /etc/apt/sources.list.d
src_args=()
for f in "${sources[@]}"; do src_args+=("$f"); done
mmdebstrap --quiet --variant=minbase --include="$(IFS=,; echo "${pkgs[*]}")" \
  --aptopt='Acquire::Check-Valid-Until "false"' \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  "${hooks[@]}" "$suite" "$tmp" "${src_args[@]}" >&2 || die "mmdebstrap failed (see above)"
touch "$tmp/.jumphost-root-complete"
mv "$tmp" "$root"
trap - EXIT
# roots of this profile built for another package list, sources or CAs are not used again
for old in "$cache/$profile"-*; do
  [ "$old" = "$root" ] || [ ! -d "$old" ] || { say "removing the outdated root $old"; rm -rf "$old"; }
done
say "built in $(($(date +%s) - start)) s ($(du -sh "$root" | cut -f1))"
echo "$root"
