// End-to-end: the real `jumphost` commands against a real PostgreSQL database.
import assert from "node:assert/strict";
import { createTestDb } from "./helpers/test_db.ts";
import { cliFor } from "./helpers/cli.ts";

const KEY = new URL("./fixtures/alice_ed25519.pub", import.meta.url).pathname;

Deno.test("CLI manages users, servers, groups and policies, and access check follows them", async () => {
  const db = await createTestDb();
  const cli = cliFor(db.url, { JUMPHOST_IP_POOL: "127.0.5.0/30" });
  try {
    // users with two source IPs and a key
    await cli.ok([
      "user",
      "add",
      "alice",
      "--source-ip",
      "127.0.0.10",
      "--source-ip",
      "10.1.0.0/24",
      "--ssh-key",
      KEY,
      "--email",
      "alice@example.org",
      "--full-name",
      "Alice A",
    ]);
    await cli.ok(["user", "add", "bob", "--source-ip", "127.0.0.11"]);
    const users = await cli.json<
      { name: string; source_ips: { cidr: string }[]; ssh_keys: { fingerprint: string }[] }[]
    >(
      ["user", "list"],
    );
    assert.deepEqual(users.map((u) => u.name), ["alice", "bob"]);
    assert.deepEqual(users[0].source_ips.map((s) => s.cidr).sort(), ["10.1.0.0/24", "127.0.0.10/32"]);
    assert.match(users[0].ssh_keys[0].fingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);
    const shown = await cli.ok(["user", "show", "alice"]);
    assert.match(shown, /alice@laptop/);
    assert.match(shown, /Alice A/);

    // servers: pool allocation, explicit pool IP, exhaustion (a /30 has two hosts)
    const web1 = await cli.json<{ pool_ip: string }>([
      "server",
      "add",
      "web1",
      "127.0.0.1",
      "--ssh-port",
      "2022",
      "--pool-ip",
      "auto",
    ]);
    assert.equal(web1.pool_ip, "127.0.5.1");
    const win1 = await cli.json<{ pool_ip: string; protocols: string[] }>(
      ["server", "add", "win1", "127.0.0.2", "--protocols", "rdp,ssh", "--pool-ip", "auto"],
    );
    assert.equal(win1.pool_ip, "127.0.5.2");
    assert.deepEqual(win1.protocols, ["rdp", "ssh"]);
    const full = await cli.run(["server", "add", "db1", "127.0.0.3", "--pool-ip", "auto"]);
    assert.equal(full.code, 1);
    assert.match(full.stderr, /^jumphost: .*(exhausted|no free)/im);
    assert.equal(full.stderr.trim().split("\n").length, 1, "one clear line");
    assert.equal((await cli.json<unknown[]>(["server", "list"])).length, 2, "nothing half-created");

    // groups and user groups
    await cli.ok(["group", "add", "linux"]);
    await cli.ok(["group", "member", "add", "linux", "web1"]);
    await cli.ok(["group", "edit", "linux", "--description", "Linux fleet"]);
    await cli.ok(["usergroup", "add", "ops"]);
    await cli.ok(["usergroup", "member", "add", "ops", "bob"]);
    const groups = await cli.json<{ name: string; members: string[] }[]>(["group", "list"]);
    assert.deepEqual(groups, [{
      ...groups[0],
      name: "linux",
      members: ["web1"],
      description: "Linux fleet",
    }]);

    // grants: user → server for ssh as root; @ops → group linux for 30 minutes
    const p1 = await cli.json<{ id: number; logins: string[] }>([
      "grant",
      "alice",
      "--server",
      "web1",
      "--protocol",
      "ssh",
      "--login",
      "root",
      "--duration",
      "60",
    ]);
    assert.deepEqual(p1.logins, ["root"]);
    await cli.ok(["grant", "@ops", "--group", "linux", "--duration", "30", "--port-forwarding"]);

    const allow = await cli.run([
      "access",
      "check",
      "--source-ip",
      "127.0.0.10",
      "--server",
      "web1",
      "--protocol",
      "ssh",
      "--login",
      "root",
    ]);
    assert.equal(allow.code, 0, allow.stderr);
    assert.match(allow.stdout, /^ALLOW alice → web1 over ssh by policy \d+/);
    const wrongLogin = await cli.run([
      "access",
      "check",
      "--source-ip",
      "127.0.0.10",
      "--server",
      "web1",
      "--protocol",
      "ssh",
      "--login",
      "admin",
    ]);
    assert.equal(wrongLogin.code, 3);
    assert.match(wrongLogin.stdout, /DENY \(login_not_allowed\)/);
    const viaGroup = await cli.run([
      "access",
      "check",
      "--source-ip",
      "127.0.0.11",
      "--server",
      "web1",
      "--protocol",
      "ssh",
      "--login",
      "anyone",
      "--json",
    ]);
    const vg = JSON.parse(viaGroup.stdout);
    assert.equal(vg.decision.allowed, true);
    assert.equal(vg.decision.portForwarding, true);
    const unknown = await cli.run([
      "access",
      "check",
      "--source-ip",
      "192.0.2.1",
      "--server",
      "web1",
      "--protocol",
      "ssh",
    ]);
    assert.match(unknown.stdout, /DENY \(unknown_source_ip\)/);

    // revoke → revoked; delete → no_policy
    await cli.ok(["policy", "revoke", String(p1.id), "--reason", "left the project"]);
    const revoked = await cli.run([
      "access",
      "check",
      "--source-ip",
      "127.0.0.10",
      "--server",
      "web1",
      "--protocol",
      "ssh",
      "--login",
      "root",
    ]);
    assert.match(revoked.stdout, /DENY \(revoked\)/);
    const listed = await cli.json<{ id: number; status: string }[]>([
      "policy",
      "list",
      "--status",
      "revoked",
    ]);
    assert.deepEqual(listed.map((p) => [p.id, p.status]), [[p1.id, "revoked"]]);
    await cli.ok(["policy", "delete", String(p1.id)]);
    const none = await cli.run([
      "access",
      "check",
      "--source-ip",
      "127.0.0.10",
      "--server",
      "web1",
      "--protocol",
      "ssh",
    ]);
    assert.match(none.stdout, /DENY \(no_policy\)/);

    // deleting a server releases its pool IP, so the next auto allocation reuses it
    await cli.ok(["server", "delete", "web1"]);
    const db1 = await cli.json<{ pool_ip: string }>([
      "server",
      "add",
      "db1",
      "127.0.0.3",
      "--pool-ip",
      "auto",
    ]);
    assert.equal(db1.pool_ip, "127.0.5.1");

    // edit and disable
    await cli.ok([
      "user",
      "edit",
      "alice",
      "--add-source-ip",
      "127.0.0.12",
      "--remove-source-ip",
      "10.1.0.0/24",
    ]);
    await cli.ok(["user", "disable", "bob"]);
    const after = await cli.json<{ name: string; active: boolean; source_ips: { cidr: string }[] }[]>([
      "user",
      "list",
    ]);
    assert.deepEqual(after.map((u) => [u.name, u.active]), [["alice", true], ["bob", false]]);
    assert.deepEqual(after[0].source_ips.map((s) => s.cidr).sort(), ["127.0.0.10/32", "127.0.0.12/32"]);

    // every change is audited
    const audit = await cli.json<{ action: string; actor: string }[]>(["audit", "list", "--limit", "200"]);
    const actions = new Set(audit.map((a) => a.action));
    for (
      const a of [
        "user.create",
        "user.update",
        "user.disable",
        "server.create",
        "server.delete",
        "pool.allocate",
        "pool.release",
        "group.create",
        "group.update",
        "group.member_add",
        "usergroup.create",
        "policy.create",
        "policy.revoke",
        "policy.delete",
        "access.check",
      ]
    ) assert.ok(actions.has(a), `audit has ${a}`);
    assert.ok(audit.every((a) => a.actor.startsWith("cli:")));
    const filtered = await cli.json<{ action: string }[]>(["audit", "list", "--action", "policy."]);
    assert.ok(filtered.length >= 3 && filtered.every((a) => a.action.startsWith("policy.")));
  } finally {
    await db.close();
  }
});

Deno.test("CLI rejects bad input with one clear line and changes nothing", async () => {
  const db = await createTestDb();
  const cli = cliFor(db.url);
  try {
    await cli.ok(["user", "add", "carol", "--source-ip", "127.0.0.20"]);
    await cli.ok(["server", "add", "app1", "127.0.0.1"]);
    const cases: [string[], RegExp][] = [
      [["user", "add", "dave", "--source-ip", "10.0.0.300"], /source IP "10\.0\.0\.300"/],
      [["user", "add", "dave", "--source-ip", "10.0.0.1/24"], /source IP/],
      [["user", "add", "dave", "--source-ip", "127.0.0.20"], /already belongs to user carol/],
      [["user", "add", "carol"], /already exists/],
      [["user", "add", "bad name"], /must be 1-64/],
      [["user", "add", "erin", "--ssh-key", "/nonexistent.pub"], /cannot read SSH key file/],
      [["server", "add", "app1", "127.0.0.1"], /already exists/],
      [["server", "add", "app2", "127.0.0.1", "--protocols", "telnet"], /unknown protocol "telnet"/],
      [["server", "add", "app2", "127.0.0.1", "--ssh-port", "70000"], /--ssh-port must be an integer/],
      [["server", "add", "app2", "127.0.0.1", "--pool-ip", "auto"], /no IP pool configured/],
      [["grant", "carol", "--server", "nope", "--duration", "10"], /server "nope" not found/],
      [["grant", "nobody", "--server", "app1", "--duration", "10"], /user "nobody" not found/],
      [
        ["grant", "carol", "--server", "app1", "--from", "2030-01-02T00:00Z", "--until", "2030-01-01T00:00Z"],
        /until must be after/,
      ],
      [["grant", "carol", "--server", "app1", "--protocol", "rdp", "--duration", "10"], /does not offer rdp/],
      [["grant", "carol", "--server", "app1"], /--duration MINUTES or --until/],
      [["grant", "carol", "--server", "app1", "--until", "tomorrow"], /is not a time/],
      [["policy", "revoke", "999"], /policy "999" not found/],
      [["group", "member", "add", "nogroup", "app1"], /server group "nogroup" not found/],
      [["user", "frobnicate"], /unknown subcommand/],
      [["user", "add", "x", "--bogus"], /unknown option --bogus/],
    ];
    for (const [args, re] of cases) {
      const r = await cli.run(args);
      assert.notEqual(r.code, 0, `${args.join(" ")} should fail`);
      assert.match(r.stderr, re, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, /^jumphost: /);
      assert.doesNotMatch(r.stderr, /internal error|at .*\.ts:\d+/, "no stack traces");
    }
    assert.equal((await cli.json<unknown[]>(["user", "list"])).length, 1);
    assert.equal((await cli.json<unknown[]>(["server", "list"])).length, 1);
    assert.equal((await cli.json<unknown[]>(["policy", "list"])).length, 0);
  } finally {
    await db.close();
  }
});

Deno.test("invalid configuration stops with one line naming the key", async () => {
  const cli = cliFor("postgres://nowhere.invalid/x");
  const cases: [Record<string, string>, RegExp][] = [
    [{ JUMPHOST_SSH_LISTEN: "nonsense" }, /JUMPHOST_SSH_LISTEN: "nonsense" is not HOST:PORT/],
    [{ JUMPHOST_IP_POOL: "10.0.0.0" }, /JUMPHOST_IP_POOL: "10\.0\.0\.0" is not a CIDR/],
    [{ JUMPHOST_DATABASE_URL: "mysql://x" }, /JUMPHOST_DATABASE_URL: must start with postgres/],
    [{ JUMPHOST_CONVERSION_WORKERS: "0" }, /JUMPHOST_CONVERSION_WORKERS: must be an integer/],
  ];
  for (const [env, re] of cases) {
    const { jh } = await import("./helpers/cli.ts");
    const r = await jh(["user", "list"], {
      env: { JUMPHOST_DATABASE_URL: "postgres://127.0.0.1:1/x", ...env },
    });
    assert.equal(r.code, 2);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split("\n").length, 1);
  }
  const flag = await cli.run(["--rdp-listen", "1.2.3.4:99999", "user", "list"]);
  assert.match(flag.stderr, /--rdp-listen: port 99999 out of range/);
});
