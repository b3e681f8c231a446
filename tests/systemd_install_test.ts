// install.sh under a real systemd: a clean Debian root (scripts/build_root.sh systemd) booted with
// systemd-nspawn in its own network namespace, this checkout and this deno copied in. Inside: install.sh
// starts the unit; its JSON logs reach the journal; `systemctl reload` reloads; a main process killed with
// SIGKILL is restarted; ports 22 and 3389 are held by the unprivileged service user through
// CAP_NET_BIND_SERVICE alone; `install.sh --uninstall --purge` leaves nothing. Skipped (saying why) only
// where systemd-nspawn cannot run.
import assert from "node:assert/strict";
import { type Booted, bootRoot, cachedRoot, nspawnCannotRun } from "./helpers/nspawn.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const cannot = await nspawnCannotRun();
if (cannot) console.log(`systemd_install_test: skipped: ${cannot}`);

/** The checkout's files (tracked and new, not ignored: no data/, node_modules/) as a tar on disk. */
async function checkoutTar(dir: string): Promise<string> {
  const tar = `${dir}/src.tar`;
  const out = await new Deno.Command("bash", {
    args: [
      "-c",
      'set -o pipefail; git -C "$1" ls-files -z --cached --others --exclude-standard | ' +
      'tar -C "$1" --null --ignore-failed-read -T - -cf "$2"',
      "tar",
      ROOT,
      tar,
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`packing the checkout: ${new TextDecoder().decode(out.stderr)}`);
  return tar;
}

async function npmCacheDir(): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"], stdout: "piped" }).output();
  return JSON.parse(new TextDecoder().decode(out.stdout)).npmCache;
}

async function ok(c: Booted, cmd: string, timeoutMs?: number): Promise<string> {
  const r = await c.sh(cmd, timeoutMs);
  assert.equal(r.code, 0, `${cmd} exited ${r.code}:\n${r.stdout}${r.stderr}`);
  return r.stdout.trim();
}

async function until<T>(what: string, ms: number, f: () => Promise<T | null>, why: () => Promise<string>) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const v = await f();
    if (v !== null) return v;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} not within ${ms / 1000} s:\n${await why()}`);
}

interface LogLine {
  time: string;
  level: string;
  msg: string;
  [k: string]: unknown;
}

/** the service's own lines in the journal: every one is a JSON object with time, level, msg */
async function journal(c: Booted): Promise<LogLine[]> {
  const text = await ok(c, "journalctl -u jumphost -o cat --no-pager _UID=$(id -u jumphost)");
  return text.split("\n").filter((l) => l !== "").map((l) => {
    let j: LogLine;
    try {
      j = JSON.parse(l);
    } catch (_e) {
      throw new Error(`a journal line of the service is not JSON: ${l}\n--- the journal:\n${text}`);
    }
    assert.ok(typeof j.time === "string" && typeof j.level === "string" && typeof j.msg === "string", l);
    return j;
  });
}

const mainPid = async (c: Booted) => Number(await ok(c, "systemctl show -p MainPID --value jumphost"));
const tail = (c: Booted) => async () =>
  (await c.sh("systemctl status jumphost --no-pager -l; journalctl -u jumphost -n 40 --no-pager")).stdout;

/** pid of the process listening on TCP `port` (ss -p), or null */
async function listener(c: Booted, port: number): Promise<number | null> {
  const r = await c.sh(`ss -Hltnp 'sport = :${port}'`);
  const m = /pid=(\d+)/.exec(r.stdout);
  return m ? Number(m[1]) : null;
}

Deno.test({
  name:
    "install.sh under systemd: active, JSON in the journal, reload, restart after SIGKILL, ports 22/3389 " +
    "as the service user by CAP_NET_BIND_SERVICE, uninstall --purge leaves nothing",
  ignore: cannot !== null,
  async fn() {
    const base = await cachedRoot("systemd");
    const tmp = await Deno.makeTempDir({ prefix: "jh-systemd-test-" });
    let c: Booted | null = null;
    try {
      c = await bootRoot(base, {
        copyIn: {
          [await checkoutTar(tmp)]: "/root/src.tar",
          [Deno.execPath()]: "/usr/local/bin/deno",
          // the container has no network: install.sh's `deno install --frozen` takes the packages from here
          [await npmCacheDir()]: "/root/.cache/deno/npm",
        },
      });
      const box = c;
      await ok(box, "mkdir /src && tar -C /src -xf /root/src.tar && rm /root/src.tar");

      // install: the unit is enabled and running
      const inst = await box.sh("bash /src/install.sh", 300_000);
      assert.equal(inst.code, 0, inst.stdout + inst.stderr + (await tail(box)()));
      assert.match(inst.stdout, /jumphost\.service enabled and running/);
      // install.sh waits for the service to be ready before its checks: they find it serving, and neither
      // races the other for the embedded cluster (a lost race showed as a restart or a failed check)
      assert.match(inst.stdout, /all checks passed/);
      assert.match(inst.stdout, /ok +ssh listen +0\.0\.0\.0:22 is served by jumphost/);
      assert.equal(await ok(box, "systemctl show -p NRestarts --value jumphost"), "0", await tail(box)());
      assert.equal(await ok(box, "systemctl is-enabled jumphost"), "enabled");
      assert.equal(await ok(box, "systemctl is-active jumphost"), "active");

      // the service's JSON log lines are in the journal, up to "ready"
      const first = await until('"ready" in the journal', 90_000, async () => {
        const lines = await journal(box);
        return lines.some((l) => l.msg === "ready") ? lines : null;
      }, tail(box));
      const starting = first.find((l) => l.msg === "starting");
      assert.equal(starting?.profile, "installed");
      assert.equal(starting?.data_dir, "/var/lib/jumphost");

      // 22 and 3389 (and the console's 8443) are held by the main process: the service user, with
      // CAP_NET_BIND_SERVICE as its only capability
      const pid = await mainPid(box);
      assert.ok(pid > 0);
      for (const port of [22, 3389, 8443]) {
        assert.equal(await listener(box, port), pid, `listener on ${port}`);
      }
      const uid = await ok(box, "id -u jumphost");
      assert.notEqual(uid, "0");
      const status = await ok(box, `cat /proc/${pid}/status`);
      assert.equal(/^Uid:\s+(.*)$/m.exec(status)?.[1].split(/\s+/).join(" "), `${uid} ${uid} ${uid} ${uid}`);
      for (const set of ["CapEff", "CapPrm", "CapBnd", "CapAmb"]) {
        // bit 10: CAP_NET_BIND_SERVICE
        assert.equal(new RegExp(`^${set}:\\s+(\\S+)$`, "m").exec(status)?.[1], "0000000000000400", set);
      }
      assert.match(await ok(box, "curl -ksS --max-time 10 https://127.0.0.1:8443/healthz"), /ok/);

      // reload: SIGHUP to the same process, which says so in the journal
      const reloadsBefore = (await journal(box)).filter((l) => l.msg === "configuration reloaded").length;
      await ok(box, "systemctl reload jumphost");
      await until('"configuration reloaded" in the journal', 30_000, async () => {
        const n = (await journal(box)).filter((l) => l.msg === "configuration reloaded").length;
        return n > reloadsBefore ? n : null;
      }, tail(box));
      assert.equal(await mainPid(box), pid, "a reload must not restart the process");

      // SIGKILL of the main process: systemd restarts it (Restart=on-failure), and it serves again
      const readyBefore = (await journal(box)).filter((l) => l.msg === "ready").length;
      await ok(box, `kill -9 ${pid}`);
      const newPid = await until("a restarted jumphost", 90_000, async () => {
        const p = await mainPid(box);
        const active = (await box.sh("systemctl is-active jumphost")).stdout.trim() === "active";
        const ready = (await journal(box)).filter((l) => l.msg === "ready").length > readyBefore;
        return p > 0 && p !== pid && active && ready ? p : null;
      }, tail(box));
      assert.ok(Number(await ok(box, "systemctl show -p NRestarts --value jumphost")) >= 1);
      assert.equal(await listener(box, 22), newPid);
      assert.equal(await listener(box, 3389), newPid);

      // uninstall --purge: no unit, user, group, files, processes or listeners are left
      const un = await box.sh("bash /src/install.sh --uninstall --purge", 120_000);
      assert.equal(un.code, 0, un.stdout + un.stderr);
      const left = await ok(
        box,
        "for p in /etc/jumphost /var/lib/jumphost /var/log/jumphost /var/cache/jumphost /opt/jumphost " +
          "/usr/local/bin/jumphost /etc/systemd/system/jumphost.service " +
          "/etc/systemd/system/multi-user.target.wants/jumphost.service /etc/logrotate.d/jumphost; " +
          'do [ -e "$p" ] || [ -L "$p" ] && echo "$p"; done; ' +
          "getent passwd jumphost; getent group jumphost; " +
          `ps -o pid=,args= -u ${uid} || true; ss -Hltn 'sport = :22 or sport = :3389 or sport = :8443'; ` +
          "systemctl list-unit-files --no-legend jumphost.service; true",
      );
      assert.equal(left, "", "left behind by --uninstall --purge");
      assert.equal(
        (await box.sh("systemctl is-active jumphost")).stdout.trim(),
        "inactive",
      );
    } finally {
      await c?.stop();
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
