// install.sh for real on this machine (root; it installs packages, a user and files — accepted in CI):
// a failing run is rolled back, a fresh install, `jumphost serve` through the installed launcher as the
// service user, an upgrade that keeps data, --uninstall keeping data, --uninstall --purge.
import assert from "node:assert/strict";
import { spawnCollected } from "./helpers/process.ts";
import { makeKey, startSshd } from "./helpers/sshd.ts";
import { ssh } from "./helpers/ssh_clients.ts";
import { createTestDb } from "./helpers/test_db.ts";
import { verifyUnit } from "./helpers/systemd_verify.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const INSTALL = `${ROOT}install.sh`;
const BIN = "/usr/local/bin/jumphost";
const PATHS = {
  etc: "/etc/jumphost",
  conf: "/etc/jumphost/jumphost.json",
  data: "/var/lib/jumphost",
  logs: "/var/log/jumphost",
  recordings: "/var/log/jumphost/recordings",
  opt: "/opt/jumphost",
  unit: "/etc/systemd/system/jumphost.service",
  logrotate: "/etc/logrotate.d/jumphost",
};

async function run(cmd: string, args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(cmd, { args, env, stdin: "null", stdout: "piped", stderr: "piped" })
    .output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

async function install(args: string[], env: Record<string, string> = {}) {
  const r = await run("bash", [INSTALL, ...args], env);
  return { ...r, all: r.stdout + r.stderr };
}

function exists(p: string): boolean {
  try {
    Deno.lstatSync(p);
    return true;
  } catch (_e) {
    return false;
  }
}

function idOf(kind: "passwd" | "group", name: string): number | null {
  const line = Deno.readTextFileSync(`/etc/${kind}`).split("\n").find((l) => l.startsWith(`${name}:`));
  return line ? Number(line.split(":")[2]) : null;
}

function assertMode(p: string, mode: number, owner: string, group: string) {
  const st = Deno.statSync(p);
  assert.equal((st.mode! & 0o7777).toString(8), mode.toString(8), `mode of ${p}`);
  assert.equal(st.uid, idOf("passwd", owner), `owner of ${p}`);
  assert.equal(st.gid, idOf("group", group), `group of ${p}`);
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function jumphost(args: string[]) {
  const r = await run(BIN, args, { JUMPHOST_LOG_LEVEL: "warn" });
  if (r.code !== 0) throw new Error(`jumphost ${args.join(" ")} exited ${r.code}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** Logs in to the installed console with curl; returns where the login redirects to. */
async function consoleLogin(port: number, name: string, password: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "jh-install-web-" });
  try {
    const base = `https://127.0.0.1:${port}`;
    const jar = `${dir}/cookies`;
    const form = await run("curl", ["-ksS", "--max-time", "10", "-c", jar, `${base}/login`]);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form.stdout)?.[1];
    assert.ok(csrf, form.stdout.slice(0, 500));
    const r = await run("curl", [
      ...[
        "-ksS",
        "--max-time",
        "10",
        "-b",
        jar,
        "-c",
        jar,
        "-o",
        "/dev/null",
        "-w",
        "%{http_code} %{redirect_url}",
      ],
      ...["-H", `Origin: ${base}`, "--data-urlencode", `_csrf=${csrf}`, "--data-urlencode", `name=${name}`],
      ...["--data-urlencode", `password=${password}`, `${base}/login`],
    ]);
    const [code, location] = r.stdout.split(" ");
    assert.equal(code, "303", r.stdout + r.stderr);
    const after = await run("curl", [
      "-ksS",
      "--max-time",
      "10",
      "-b",
      jar,
      "-o",
      "/dev/null",
      "-w",
      "%{redirect_url}",
      location,
    ]);
    return new URL(after.stdout || location).pathname;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** user, server, grant and appliance key made with the installed CLI; then plain ssh through the proxy. */
async function sshThroughInstalled(sshPort: number) {
  const sshd = await startSshd();
  const dir = await Deno.makeTempDir({ prefix: "jh-install-ssh-" });
  try {
    const key = await makeKey(dir, "client");
    await jumphost(["user", "add", "wendy", "--source-ip", "127.0.0.31", "--ssh-key", `${key.path}.pub`]);
    await jumphost([
      "server",
      "add",
      "web1",
      sshd.host,
      "--ssh-port",
      String(sshd.port),
      "--pool-ip",
      "none",
    ]);
    await jumphost(["grant", "wendy", "--server", "web1", "--login", sshd.user, "--duration", "60"]);
    await jumphost(["server", "backend-key", "web1", "--generate"]);
    const pub = await jumphost(["server", "backend-key", "web1", "--show-public"]);
    await Deno.writeTextFile(`${sshd.dir}/authorized/${sshd.user}`, pub.trim() + "\n", { append: true });
    return await ssh({ bind: "127.0.0.31", key: key.path }, sshPort, "127.0.0.1", `${sshd.user}@web1`, [
      "echo",
      "through-the-installed-jump",
    ]);
  } finally {
    await sshd.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: "install.sh installs, serves through the launcher, upgrades, uninstalls keeping data, then purges",
  ignore: Deno.uid() !== 0,
  sanitizeResources: true,
  async fn() {
    // a clean slate (an earlier run or a developer's install)
    let r = await install(["--uninstall", "--purge"]);
    assert.equal(r.code, 0, r.all);

    // 1. a step failing late in a fresh install leaves nothing behind
    r = await install(["--no-start"], { JUMPHOST_INSTALL_FAIL_AT: "creating the first console admin" });
    assert.equal(r.code, 1, r.all);
    assert.match(r.stderr, /step "creating the first console admin" failed/);
    assert.match(r.stderr, /nothing was left half-configured/);
    for (const p of Object.values(PATHS)) assert.ok(!exists(p), `${p} left behind by a failed install`);
    assert.ok(!exists(BIN), `${BIN} left behind`);
    assert.equal(idOf("passwd", "jumphost"), null, "user left behind");
    assert.deepEqual([...Deno.readDirSync("/opt")].filter((e) => e.name.startsWith("jumphost")), []);

    // 2. fresh install, from a shell with JUMPHOST_* left in its environment: the steps must ignore them
    // (the service that systemd starts has none), and say so
    const elsewhere = await Deno.makeTempDir({ prefix: "jh-install-elsewhere-" });
    r = await install(["--no-start"], {
      JUMPHOST_DATA_DIR: `${elsewhere}/data`,
      JUMPHOST_DATABASE_URL: "postgres://nobody@127.0.0.1:1/nowhere",
    });
    assert.equal(r.code, 0, r.all);
    const ignored =
      /warning: ignoring (.*) from your environment: .* use only \/etc\/jumphost\/jumphost\.json/
        .exec(r.stderr)?.[1];
    assert.deepEqual(ignored?.split(" ").sort(), ["JUMPHOST_DATABASE_URL", "JUMPHOST_DATA_DIR"], r.stderr);
    assert.deepEqual([...Deno.readDirSync(elsewhere)], [], "a step followed JUMPHOST_DATA_DIR");
    await Deno.remove(elsewhere);
    for (let i = 1; i <= 9; i++) assert.match(r.stdout, new RegExp(`^\\[${i}/9\\] `, "m"));
    const password = /console login {2}admin \/ (\S+)/.exec(r.stdout)?.[1];
    assert.ok(password && password.length >= 16, r.stdout);
    assert.match(r.stdout, /console {8}https:\/\/\S+:8443\//);
    assert.match(r.stdout, /SSH {12}\S+:22/);
    assert.match(r.stdout, /RDP {12}\S+:3389/);
    assert.match(r.stdout, /ok +database +embedded cluster in \/var\/lib\/jumphost\/pg/);
    if (!exists("/run/systemd/system")) assert.match(r.stdout, /run the jump host in the foreground/);

    assertMode(PATHS.etc, 0o750, "root", "jumphost");
    assertMode(PATHS.conf, 0o640, "root", "jumphost");
    assertMode(PATHS.data, 0o750, "jumphost", "jumphost");
    assertMode(`${PATHS.data}/pg`, 0o700, "jumphost", "jumphost");
    assertMode(`${PATHS.data}/tls/console.key`, 0o600, "jumphost", "jumphost");
    assertMode(PATHS.logs, 0o750, "jumphost", "jumphost");
    assertMode(PATHS.recordings, 0o750, "jumphost", "jumphost");
    assertMode(BIN, 0o755, "root", "root");
    const groups = (await run("id", ["-nG", "jumphost"])).stdout.trim().split(" ");
    assert.ok(groups.includes("utmp"), `jumphost groups: ${groups}`);
    const conf = JSON.parse(Deno.readTextFileSync(PATHS.conf));
    assert.equal(conf.data_dir, "/var/lib/jumphost");
    assert.equal(conf.recordings_dir, "/var/log/jumphost/recordings");
    assert.deepEqual(conf.ssh_listen, ["0.0.0.0:22"]);
    assert.equal(conf.database_url, undefined);

    const launcher = Deno.readTextFileSync(BIN);
    if (launcher.startsWith("#!")) {
      assert.match(r.stdout, /denort is not available/);
      assert.match(launcher, /^export JUMPHOST_PROFILE=installed$/m);
      assert.match(launcher, /exec "[^"]*deno" run .*"\/opt\/jumphost\/main\.ts" "\$@"$/m);
      assert.ok(exists(`${PATHS.opt}/main.ts`) && exists(`${PATHS.opt}/node_modules`));
      assert.ok(!exists(`${PATHS.opt}/.git`) && !exists(`${PATHS.opt}/data`));
    }
    const unit = Deno.readTextFileSync(PATHS.unit);
    for (
      const line of [
        "User=jumphost",
        "Restart=on-failure",
        "AmbientCapabilities=CAP_NET_BIND_SERVICE",
        "ExecStart=/usr/local/bin/jumphost serve",
        "ExecStartPre=-+/usr/local/bin/jumphost pool apply --dev lo",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "SupplementaryGroups=utmp",
      ]
    ) assert.ok(unit.split("\n").includes(line), `unit lacks ${line}`);
    assert.match(
      unit,
      /^ReadWritePaths=.*\/var\/lib\/jumphost .*\/var\/log\/jumphost .*-\/var\/run\/utmp .*-\/var\/log\/wtmp/m,
    );
    const unitProblems = await verifyUnit(PATHS.unit);
    if (unitProblems === null) {
      console.log("note: systemd-analyze is not installed (apt: systemd); unit not verified");
    } else assert.deepEqual(unitProblems, [], "systemd-analyze verify of the generated unit");
    assert.match(Deno.readTextFileSync(PATHS.logrotate), /^\/var\/log\/jumphost\/\*\.log \{/m);
    const lr = await run("logrotate", ["--debug", PATHS.logrotate]);
    assert.equal(lr.code, 0, lr.stderr);

    // 3. serve through the installed launcher as the service user, on non-default ports
    const ports = { ssh: freePort(), rdp: freePort(), web: freePort() };
    const serve = spawnCollected("setpriv", [
      "--reuid=jumphost",
      "--regid=jumphost",
      "--init-groups",
      BIN,
      "serve",
      "--ssh-listen",
      `127.0.0.1:${ports.ssh}`,
      "--rdp-listen",
      `127.0.0.1:${ports.rdp}`,
      "--web-listen",
      `127.0.0.1:${ports.web}`,
    ], { cwd: "/" });
    try {
      await serve.waitFor(/"msg":"ready"/, 60_000);
      assert.match(serve.output(), /"profile":"installed"/);
      // the embedded cluster runs as the service user
      const pid = Number(Deno.readTextFileSync(`${PATHS.data}/pg/postmaster.pid`).split("\n")[0]);
      const uid = /^Uid:\s+(\d+)/m.exec(Deno.readTextFileSync(`/proc/${pid}/status`))![1];
      assert.equal(Number(uid), idOf("passwd", "jumphost"));
      // the CLI as root works against the running service's database
      await jumphost(["user", "add", "alice", "--source-ip", "127.0.0.10"]);
      const users = JSON.parse(await jumphost(["user", "list", "--json"])) as { name: string }[];
      assert.deepEqual(users.map((u) => u.name), ["alice"]);
      const audit = JSON.parse(await jumphost(["audit", "list", "--json"])) as { action: string }[];
      assert.ok(audit.some((a) => a.action === "system.start"));
      const admins = JSON.parse(await jumphost(["admin", "list", "--json"])) as {
        name: string;
        role: string;
      }[];
      assert.deepEqual(admins.map((a) => [a.name, a.role]), [["admin", "admin"]]);
      const h = await run("curl", ["-ksS", "--max-time", "10", `https://127.0.0.1:${ports.web}/healthz`]);
      assert.equal(h.code, 0, h.stderr);
      assert.match(h.stdout, /ok/);
      // the console takes the printed admin password, and first asks for a password of the admin's own
      assert.equal(await consoleLogin(ports.web, "admin", password!), "/account");
      // an end user reaches a real sshd through the installed service's SSH listener
      const out = await sshThroughInstalled(ports.ssh);
      assert.equal(out.code, 0, out.stderr);
      assert.equal(out.stdout.trim(), "through-the-installed-jump");
    } finally {
      const st = await serve.stop();
      assert.equal(st.code, 0, serve.output().slice(-2000));
    }
    assert.match(serve.output(), /embedded PostgreSQL stopped/);
    assert.ok(!exists(`${PATHS.data}/pg/postmaster.pid`));

    // 4. re-running upgrades: configuration, data and the console admin are kept
    r = await install(["--no-start"]);
    assert.equal(r.code, 0, r.all);
    assert.match(r.stdout, /^Upgrading jumphost/m);
    assert.match(r.stdout, /kept existing \/etc\/jumphost\/jumphost\.json/);
    assert.match(r.stdout, /a console admin exists already \(kept\)/);
    assert.doesNotMatch(r.stdout, /console login/);
    assert.deepEqual(
      (JSON.parse(await jumphost(["user", "list", "--json"])) as { name: string }[]).map((u) => u.name),
      ["alice", "wendy"],
    );
    assert.deepEqual(
      [...Deno.readDirSync("/opt")].map((e) => e.name).filter((n) => n.startsWith("jumphost")),
      [
        "jumphost",
      ],
    );
    assert.equal([...Deno.readDirSync("/etc/jumphost")].filter((e) => e.name.includes("rollback")).length, 0);

    // 4a. a failing upgrade restores the previous program, unit and configuration
    const confBefore = Deno.readTextFileSync(PATHS.conf);
    const unitBefore = Deno.readTextFileSync(PATHS.unit);
    r = await install(["--no-start"], { JUMPHOST_INSTALL_FAIL_AT: "preparing the database" });
    assert.equal(r.code, 1, r.all);
    assert.match(r.stderr, /step "preparing the database" failed/);
    assert.equal(Deno.readTextFileSync(PATHS.conf), confBefore);
    assert.equal(Deno.readTextFileSync(PATHS.unit), unitBefore);
    for (const dir of ["/opt", "/usr/local/bin", PATHS.etc, "/etc/systemd/system", "/etc/logrotate.d"]) {
      const left = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => /jh-rollback|\.new\./.test(n));
      assert.deepEqual(left, [], `leftovers in ${dir}`);
    }
    assert.deepEqual(
      (JSON.parse(await jumphost(["user", "list", "--json"])) as { name: string }[]).map((u) => u.name),
      ["alice", "wendy"],
    );
    assert.notEqual(idOf("passwd", "jumphost"), null, "an upgrade's rollback must keep the existing user");

    // 4b. --database-url switches an installation to an existing PostgreSQL (migrated, first admin there)
    const ext = await createTestDb();
    try {
      r = await install(["--no-start", "--database-url", ext.url]);
      assert.equal(r.code, 0, r.all);
      assert.match(r.stdout, /kept \/etc\/jumphost\/jumphost\.json, set database_url/);
      assert.match(r.stdout, /console login {2}admin \/ \S+/);
      assert.equal(JSON.parse(Deno.readTextFileSync(PATHS.conf)).database_url, ext.url);
      const [a] = await ext.sql<{ name: string }[]>`SELECT name FROM console_users`;
      assert.equal(a.name, "admin");
    } finally {
      await ext.close();
    }

    // 5. --uninstall keeps configuration, data, recordings and the user
    r = await install(["--uninstall"]);
    assert.equal(r.code, 0, r.all);
    for (const p of [BIN, PATHS.opt, PATHS.unit, PATHS.logrotate]) assert.ok(!exists(p), `${p} still there`);
    for (const p of [PATHS.conf, `${PATHS.data}/pg/PG_VERSION`, PATHS.recordings]) {
      assert.ok(exists(p), `${p} gone`);
    }
    assert.notEqual(idOf("passwd", "jumphost"), null);

    // 6. --purge removes everything
    r = await install(["--uninstall", "--purge"]);
    assert.equal(r.code, 0, r.all);
    for (const p of Object.values(PATHS)) assert.ok(!exists(p), `${p} still there after --purge`);
    assert.equal(idOf("passwd", "jumphost"), null);
    assert.equal(idOf("group", "jumphost"), null);
  },
});
