#!/usr/bin/env bash
# jumphost installer for Debian 12 / Ubuntu 24.04, run as root from a checkout or an unpacked release.
#   ./install.sh [--no-start] [--database-url URL]     install, or upgrade when already installed
#   ./install.sh --uninstall [--purge]                 remove the program; --purge also removes the data
# Idempotent: re-running upgrades the code and keeps configuration, data and console accounts.
# A failing step stops the run and undoes what this run changed (files are restored, new ones removed).
set -Eeuo pipefail
umask 022

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SVC=jumphost
ETC=/etc/jumphost
CONF=$ETC/jumphost.json
DATA=/var/lib/jumphost
LOGDIR=/var/log/jumphost
RECDIR=$LOGDIR/recordings
CACHE=/var/cache/jumphost
OPT=/opt/jumphost
BIN=/usr/local/bin/jumphost
UNIT=/etc/systemd/system/jumphost.service
LOGROTATE=/etc/logrotate.d/jumphost

no_start=0 database_url="" uninstall=0 purge=0
usage() { sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --no-start) no_start=1 ;;
    --database-url) [ $# -ge 2 ] || { echo "install.sh: --database-url needs a value" >&2; exit 2; }
      database_url="$2"; shift ;;
    --database-url=*) database_url="${1#*=}" ;;
    --uninstall) uninstall=1 ;;
    --purge) purge=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
if [ "$purge" = 1 ] && [ "$uninstall" = 0 ]; then echo "install.sh: --purge goes with --uninstall" >&2; exit 2; fi
if [ -n "$database_url" ] && ! [[ "$database_url" =~ ^postgres(ql)?:// ]]; then
  echo "install.sh: --database-url must start with postgres:// or postgresql://" >&2; exit 2
fi

# The steps (migrate, admin add, doctor) run with the installed configuration only, as the service will:
# JUMPHOST_* left in the caller's environment would point them at another data dir or database, while
# systemd starts the service without them. They are dropped, and named; the test hook is read first.
fail_at="${JUMPHOST_INSTALL_FAIL_AT:-}"
ignored_env=()
for v in $(compgen -e); do
  case "$v" in
    JUMPHOST_INSTALL_FAIL_AT) unset "$v" ;;
    JUMPHOST_*) ignored_env+=("$v"); unset "$v" ;;
  esac
done

stop_embedded_pg() {
  local pgbin
  [ -f "$DATA/pg/postmaster.pid" ] || return 0
  pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  runuser -u "$SVC" -- "$pgbin/pg_ctl" stop -D "$DATA/pg" -m fast >/dev/null 2>&1 || true
}
have_systemd() { [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; }
say() { printf '%s\n' "$*"; }
warn() { printf 'install.sh: warning: %s\n' "$*" >&2; }

# ---- progress and rollback ---------------------------------------------------------------------------
STEP="" STEP_NO=0 STEP_TOTAL=0
created=()  # paths this run created (removed on failure, newest first)
backups=()  # "path|backup" pairs: the state before this run (restored on failure)
undo=()     # commands that undo other effects (run on failure, newest first)
created_user=0
finished=0

step() {
  STEP_NO=$((STEP_NO + 1)) STEP="$1"
  printf '[%d/%d] %s\n' "$STEP_NO" "$STEP_TOTAL" "$1"
  # test hook: make a named step fail, to prove that a failed run leaves nothing behind
  if [ "$fail_at" = "$1" ]; then echo "install.sh: failing on purpose (JUMPHOST_INSTALL_FAIL_AT)" >&2; false; fi
}

# remember a path before this run touches it: new → removed on failure; existing → copied and restored
track() {
  local p="$1"
  if [ -e "$p" ] || [ -L "$p" ]; then
    local b="$p.jh-rollback.$$"
    cp -a "$p" "$b"
    backups+=("$p|$b")
  else
    created+=("$p")
  fi
}

rollback() {
  local i
  set +e
  for ((i = ${#undo[@]} - 1; i >= 0; i--)); do eval "${undo[$i]}" >/dev/null 2>&1; done
  for ((i = ${#created[@]} - 1; i >= 0; i--)); do rm -rf -- "${created[$i]}"; done
  for ((i = ${#backups[@]} - 1; i >= 0; i--)); do
    local p="${backups[$i]%%|*}" b="${backups[$i]#*|}"
    rm -rf -- "$p" && mv -- "$b" "$p"
  done
  if [ "$created_user" = 1 ]; then userdel "$SVC" >/dev/null 2>&1; groupdel "$SVC" >/dev/null 2>&1; fi
  if have_systemd; then systemctl daemon-reload >/dev/null 2>&1; fi
}

on_error() {
  local code=$? line=$1
  trap - ERR
  [ "$finished" = 1 ] && exit "$code"
  echo >&2
  echo "install.sh: step \"$STEP\" failed (exit code $code, line $line)." >&2
  echo "install.sh: undoing the changes of this run..." >&2
  rollback
  echo "install.sh: nothing was left half-configured; fix the cause above and run install.sh again." >&2
  exit 1
}

commit_changes() {
  local pb
  for pb in "${backups[@]}"; do rm -rf -- "${pb#*|}"; done
  backups=() created=() undo=()
  finished=1
}

[ "$(id -u)" = 0 ] || { echo "install.sh: run as root (sudo ./install.sh)" >&2; exit 1; }
if [ ${#ignored_env[@]} -gt 0 ]; then
  warn "ignoring ${ignored_env[*]} from your environment: install.sh and the installed service use only $CONF" \
    "(use --database-url for an existing PostgreSQL; edit $CONF for the rest)"
fi

# ---- uninstall ---------------------------------------------------------------------------------------
if [ "$uninstall" = 1 ]; then
  say "Uninstalling jumphost$([ "$purge" = 1 ] && echo " and purging its data")"
  if have_systemd && [ -f "$UNIT" ]; then
    systemctl disable --now "$SVC" >/dev/null 2>&1 || true
  fi
  if pgrep -u "$SVC" -f '(main\.ts|bin/jumphost) serve' >/dev/null 2>&1; then
    warn "a jumphost process of user $SVC is still running (started by hand?); stop it first"; exit 1
  fi
  rm -f "$UNIT" "$LOGROTATE" "$BIN"
  rm -rf "$OPT" "$CACHE"
  have_systemd && systemctl daemon-reload
  if [ "$purge" = 1 ]; then
    stop_embedded_pg
    rm -rf "$ETC" "$DATA" "$LOGDIR"
    if getent passwd "$SVC" >/dev/null; then userdel "$SVC" >/dev/null 2>&1 || true; fi
    if getent group "$SVC" >/dev/null; then groupdel "$SVC" >/dev/null 2>&1 || true; fi
    say "Removed the program, configuration ($ETC), data ($DATA), recordings ($LOGDIR) and user $SVC."
  else
    say "Removed the program. Kept: configuration $ETC, data $DATA, recordings $LOGDIR, user $SVC."
    say "Re-run install.sh to reinstall with them, or install.sh --uninstall --purge to delete them."
  fi
  exit 0
fi

# ---- install / upgrade -------------------------------------------------------------------------------
trap 'on_error $LINENO' ERR
STEP_TOTAL=9
upgrade=0; [ -e "$BIN" ] && upgrade=1
say "$([ $upgrade = 1 ] && echo Upgrading || echo Installing) jumphost from $SRC"

step "checking the system"
[ -f "$SRC/main.ts" ] && [ -f "$SRC/deno.json" ] || { echo "install.sh: $SRC is not a jumphost source tree" >&2; false; }
. /etc/os-release 2>/dev/null || true
case "${ID:-}:${VERSION_ID:-}" in
  debian:12|ubuntu:24.04) ;;
  *) warn "tested on Debian 12 and Ubuntu 24.04; this is ${PRETTY_NAME:-an unknown system}" ;;
esac

step "installing missing packages (deno, PostgreSQL, ffmpeg, logrotate, iproute2, openssl)"
bash "$SRC/scripts/deps.sh" run
extra=()
for p in logrotate iproute2 openssl util-linux procps; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || extra+=("$p")
done
if [ ${#extra[@]} -gt 0 ]; then
  apt-get -o DPkg::Lock::Timeout=300 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends \
    "${extra[@]}" >/dev/null
fi
DENO="$(readlink -f "$(command -v deno)")"

step "creating user $SVC and directories"
if ! getent passwd "$SVC" >/dev/null; then
  useradd --system --user-group --home-dir "$DATA" --no-create-home --shell /usr/sbin/nologin \
    --comment "jumphost SSH/RDP jump host" "$SVC"
  created_user=1
fi
# utmp/wtmp are root:utmp 0664: group membership lets the service record sessions for who/last
if getent group utmp >/dev/null && ! id -nG "$SVC" | tr ' ' '\n' | grep -qx utmp; then
  usermod -aG utmp "$SVC"
  undo+=("gpasswd -d $SVC utmp")
fi
mkdir_owned() { # path mode owner:group
  [ -d "$1" ] || { track "$1"; mkdir -p "$1"; }
  chmod "$2" "$1"; chown "$3" "$1"
}
mkdir_owned "$ETC" 0750 "root:$SVC"
mkdir_owned "$DATA" 0750 "$SVC:$SVC"
mkdir_owned "$LOGDIR" 0750 "$SVC:$SVC"
mkdir_owned "$RECDIR" 0750 "$SVC:$SVC"
mkdir_owned "$CACHE" 0750 "$SVC:$SVC"
# the embedded PostgreSQL cluster belongs to the service user (also when root runs the CLI)
if [ -z "$database_url" ] && ! grep -q '"database_url"' "$CONF" 2>/dev/null; then
  [ -d "$DATA/pg" ] || undo+=("stop_embedded_pg")
  mkdir_owned "$DATA/pg" 0700 "$SVC:$SVC"
fi

step "writing configuration $CONF"
if [ ! -f "$CONF" ]; then
  track "$CONF"
  mkdir_owned "$DATA/tls" 0750 "$SVC:$SVC"
  if [ ! -f "$DATA/tls/console.crt" ]; then
    # a self-signed certificate so the console is HTTPS from the start; replace it with a real one
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 825 -sha256 \
      -subj "/CN=$(hostname -f 2>/dev/null || hostname)" -keyout "$DATA/tls/console.key" \
      -out "$DATA/tls/console.crt" >/dev/null 2>&1
    chown "$SVC:$SVC" "$DATA/tls/console.key" "$DATA/tls/console.crt"
    chmod 0600 "$DATA/tls/console.key"; chmod 0644 "$DATA/tls/console.crt"
  fi
  utmp_line="" wtmp_line=""
  [ -f /var/run/utmp ] && utmp_line='  "utmp_file": "/var/run/utmp",'
  [ -f /var/log/wtmp ] && wtmp_line='  "wtmp_file": "/var/log/wtmp",'
  db_line=""
  [ -n "$database_url" ] && db_line="  \"database_url\": $(printf '%s' "$database_url" | "$DENO" eval -q 'console.log(JSON.stringify(await new Response(Deno.stdin.readable).text()))'),"
  {
    echo "{"
    [ -n "$db_line" ] && echo "$db_line"
    echo "  \"data_dir\": \"$DATA\","
    echo "  \"recordings_dir\": \"$RECDIR\","
    echo '  "ssh_listen": ["0.0.0.0:22"],'
    echo '  "rdp_listen": ["0.0.0.0:3389"],'
    echo '  "web_listen": ["0.0.0.0:8443"],'
    echo "  \"web_tls_cert\": \"$DATA/tls/console.crt\","
    echo "  \"web_tls_key\": \"$DATA/tls/console.key\","
    [ -n "$utmp_line" ] && echo "$utmp_line"
    [ -n "$wtmp_line" ] && echo "$wtmp_line"
    echo '  "log_level": "info"'
    echo "}"
  } >"$CONF"
  say "      wrote $CONF (installed defaults)"
elif [ -n "$database_url" ]; then
  track "$CONF"
  JH_DB_URL="$database_url" "$DENO" eval -q '
    const f = Deno.args[0] ?? "/etc/jumphost/jumphost.json";
    const c = JSON.parse(Deno.readTextFileSync(f));
    c.database_url = Deno.env.get("JH_DB_URL");
    Deno.writeTextFileSync(f, JSON.stringify(c, null, 2) + "\n");' "$CONF"
  say "      kept $CONF, set database_url"
else
  say "      kept existing $CONF"
fi
chown "root:$SVC" "$CONF"; chmod 0640 "$CONF"

step "installing the program"
if [ -n "${DENORT_BIN:-}" ] && [ -x "${DENORT_BIN}" ]; then
  say "      building a single binary with deno compile (DENORT_BIN=$DENORT_BIN)"
  track "$BIN"
  (cd "$SRC" && "$DENO" task compile "$BIN.new.$$")
  install -m 0755 -o root -g root "$BIN.new.$$" "$BIN"; rm -f "$BIN.new.$$"
  if [ -d "$OPT" ]; then track "$OPT"; rm -rf "$OPT"; fi
  mode="single binary $BIN"
else
  say "      denort is not available (set DENORT_BIN to build a single binary): installing the source"
  say "      under $OPT with a launcher $BIN that runs it with $DENO"
  stage="$OPT.new.$$"
  created+=("$stage")
  mkdir -p "$stage"
  tar -C "$SRC" --exclude=./.git --exclude=./data --exclude=./node_modules --exclude=./dist \
    --exclude=./tests --exclude=./bench --exclude=./.ci --exclude=./jumphost.json --exclude='*.log' \
    --exclude='*.jh-rollback.*' -cf - . | tar -C "$stage" -xf -
  (cd "$stage" && DENO_NO_UPDATE_CHECK=1 "$DENO" install --frozen --quiet)
  # readable by the service user whatever modes the npm cache (hard-linked into node_modules) was made with
  chown -R root:root "$stage"; chmod -R go-w,a+rX "$stage"
  track "$OPT"
  rm -rf "$OPT"; mv "$stage" "$OPT"
  track "$BIN"
  cat >"$BIN.new.$$" <<EOF
#!/bin/sh
# jumphost launcher written by install.sh: runs the code in $OPT with deno, as the installed program
# (profile "installed": /etc/jumphost/jumphost.json, /var/lib/jumphost). install.sh puts a single binary
# here instead when a denort runtime is available (DENORT_BIN).
export JUMPHOST_PROFILE=installed
export DENO_NO_UPDATE_CHECK=1
if [ -z "\${DENO_DIR:-}" ] && [ "\$(id -u)" = "\$(id -u $SVC 2>/dev/null)" ]; then export DENO_DIR=$CACHE/deno; fi
exec "$DENO" run -A --quiet --frozen --cached-only --config "$OPT/deno.json" "$OPT/main.ts" "\$@"
EOF
  install -m 0755 -o root -g root "$BIN.new.$$" "$BIN"; rm -f "$BIN.new.$$"
  mode="source in $OPT with the launcher $BIN (deno $("$DENO" --version | head -1 | cut -d' ' -f2))"
fi
"$BIN" help >/dev/null

step "installing the systemd unit and logrotate configuration"
track "$UNIT"
mkdir -p "$(dirname "$UNIT")"
cat >"$UNIT" <<EOF
# jumphost SSH/RDP jump host (written by install.sh; re-running install.sh rewrites it)
[Unit]
Description=jumphost SSH/RDP jump host
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
User=$SVC
Group=$SVC
SupplementaryGroups=utmp
Environment=JUMPHOST_PROFILE=installed
Environment=DENO_DIR=$CACHE/deno
# pool IPs onto lo before the listeners start ("+": as root, for CAP_NET_ADMIN; "-": a failure is logged
# but does not keep the jump host down)
ExecStartPre=-+$BIN pool apply --dev lo
ExecStart=$BIN serve
ExecReload=/bin/kill -HUP \$MAINPID
KillMode=mixed
KillSignal=SIGTERM
TimeoutStopSec=60
Restart=on-failure
RestartSec=3s
# bind 22 and 3389 without root
AmbientCapabilities=CAP_NET_BIND_SERVICE
CapabilityBoundingSet=CAP_NET_BIND_SERVICE
NoNewPrivileges=yes
# (no MemoryDenyWriteExecute: V8's JIT needs writable+executable pages)
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictSUIDSGID=yes
RestrictRealtime=yes
RestrictNamespaces=yes
LockPersonality=yes
SystemCallArchitectures=native
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK
UMask=0027
CacheDirectory=jumphost
# writable: data, recordings, and the login records (utmp/wtmp) that who/last read
ReadWritePaths=$DATA $LOGDIR -/var/run/utmp -/run/utmp -/var/log/wtmp
LimitNOFILE=65536

[Install]
WantedBy=multi-user.target
EOF
chmod 0644 "$UNIT"
if command -v systemd-analyze >/dev/null 2>&1; then
  systemd-analyze verify "$UNIT" 2>&1 | grep -v -e 'Failed to connect' -e 'System has not been booted' \
    -e "Unit is not loaded" -e "^$" >&2 || true
fi
track "$LOGROTATE"
cat >"$LOGROTATE" <<EOF
# jumphost (written by install.sh). The service logs to journald; these are logs written to files by
# foreground runs or redirections. Recordings under $RECDIR are kept, never rotated.
$LOGDIR/*.log {
    weekly
    rotate 8
    compress
    delaycompress
    missingok
    notifempty
    copytruncate
    su $SVC $SVC
    create 0640 $SVC $SVC
}
EOF
chmod 0644 "$LOGROTATE"
if command -v logrotate >/dev/null 2>&1; then logrotate --debug "$LOGROTATE" >/dev/null 2>&1; fi

step "preparing the database"
if have_systemd && systemctl is-active --quiet "$SVC"; then
  # an upgrade: the running service holds the embedded cluster; stop it so migrations run on the new code
  systemctl stop "$SVC"
  undo+=("systemctl start $SVC")
fi
"$BIN" migrate

step "creating the first console admin"
admin_password=""
admins=$("$BIN" admin list --json)
if printf '%s' "$admins" | grep -q '"role": "admin"'; then
  say "      a console admin exists already (kept)"
else
  out=$("$BIN" admin add admin --json)
  admin_password=$(printf '%s' "$out" | "$DENO" eval -q 'console.log(JSON.parse(await new Response(Deno.stdin.readable).text()).password)')
  undo+=("$BIN admin delete admin")
fi

step "starting the service"
started=0
if have_systemd; then
  systemctl daemon-reload
  systemctl enable "$SVC" >/dev/null 2>&1
  undo+=("systemctl disable $SVC")
  if [ "$no_start" = 0 ]; then
    systemctl restart "$SVC"
    # Type=simple is "active" at once: wait for this start's own "ready" line, so that the checks below do
    # not race its start-up for the embedded cluster and the ports (a lost race made the service exit and
    # be restarted, or doctor report a failed database and free ports)
    invocation=$(systemctl show -p InvocationID --value "$SVC")
    ready=0
    for _ in $(seq 1 180); do
      if journalctl -q -o cat --no-pager "_SYSTEMD_INVOCATION_ID=$invocation" 2>/dev/null |
        grep -q '"msg":"ready"'; then ready=1; break; fi
      [ "$(systemctl show -p InvocationID --value "$SVC")" = "$invocation" ] || break # it exited, restarted
      systemctl is-active --quiet "$SVC" || break
      sleep 0.5
    done
    if [ "$ready" = 0 ]; then
      journalctl -u "$SVC" -n 30 --no-pager >&2 || true
      echo "install.sh: $SVC did not become ready (it exited, or no \"ready\" log line within 90 s)" >&2; false
    fi
    started=1
    say "      $SVC.service enabled and running"
  else
    say "      $SVC.service enabled, not started (--no-start)"
  fi
else
  say "      systemd is not running here (container or CI): nothing is started"
fi
commit_changes
trap - ERR

# ---- summary -----------------------------------------------------------------------------------------
# a configured value, or the installed default when the key is absent
conf_get() { JH_KEY="$1" JH_DEFAULT="$2" "$DENO" eval -q "
  const c = JSON.parse(Deno.readTextFileSync('$CONF')); const v = c[Deno.env.get('JH_KEY')];
  console.log(Array.isArray(v) ? v.join(' ') : (v ?? Deno.env.get('JH_DEFAULT')));"; }
host_ip=$(hostname -I 2>/dev/null | awk '{print $1}'); host_ip=${host_ip:-127.0.0.1}
web=$(conf_get web_listen 0.0.0.0:8443); ssh_l=$(conf_get ssh_listen 0.0.0.0:22)
rdp_l=$(conf_get rdp_listen 0.0.0.0:3389)
scheme=http; [ -n "$(conf_get web_tls_cert "")" ] && scheme=https
say ""
say "jumphost is installed: $mode"
say "  configuration  $CONF"
say "  data           $DATA    recordings $RECDIR"
for w in $web; do say "  console        $scheme://${w/0.0.0.0/$host_ip}/"; done
say "  SSH            ${ssh_l//0.0.0.0/$host_ip}"
say "  RDP            ${rdp_l//0.0.0.0/$host_ip}"
if [ -n "$admin_password" ]; then
  say ""
  say "  console login  admin / $admin_password"
  say "                 (shown once: note it now; you choose your own password at the first login)"
fi
say ""
say "Checks (jumphost doctor):"
"$BIN" doctor | sed 's/^/  /' || true
say ""
say "Next steps:"
if ! have_systemd; then
  say "  - systemd is not running here; run the jump host in the foreground as the service user:"
  say "      setpriv --reuid=$SVC --regid=$SVC --init-groups --inh-caps=+net_bind_service \\"
  say "        --ambient-caps=+net_bind_service $BIN serve"
  say "    (first, as root: $BIN pool apply, to put pool IPs on lo)"
elif [ "$started" = 0 ]; then
  say "  - start it: systemctl start $SVC   (logs: journalctl -u $SVC -f)"
else
  say "  - logs: journalctl -u $SVC -f"
fi
say "  - add a user:   $BIN user add alice --source-ip 10.0.0.5 --ssh-key alice.pub"
say "  - add a server: $BIN server add web1 10.0.1.10"
say "    (one address per server: set \"ip_pool\" (a CIDR routed to this host) in $CONF,"
say "     then server add ... --pool-ip auto; the unit puts pool IPs on lo with jumphost pool apply)"
say "  - grant access: $BIN grant alice --server web1 --duration 480"
say "  - check again:  $BIN doctor"
