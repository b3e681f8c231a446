// Tamper evidence end to end: OpenSSH client → proxy → real sshd makes a recorded session whose recording
// is sealed at close; `jumphost audit verify` and `jumphost recordings verify` (the real CLI) name rows
// edited, deleted or reordered by hand in PostgreSQL and a recording with one byte flipped or truncated;
// `jumphost sessions export` writes a bundle that the real ssh-keygen, openssl and sha256sum verify with
// the commands of its VERIFY.md.
import assert from "node:assert/strict";
import { join } from "node:path";
import { startSshEnv } from "./helpers/ssh_env.ts";
import { type ClientId, sshWith } from "./helpers/ssh_clients.ts";
import { cliFor } from "./helpers/cli.ts";
import { runTool } from "./helpers/tools.ts";
import { VERIFY_COMMANDS } from "../cli/export_verify_md.ts";

async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timeout waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

Deno.test("tamper evidence: sealed recordings, audit verify, recordings verify, offline export", async (t) => {
  const env = await startSshEnv();
  try {
    const alice = await env.key("alice");
    await env.addUser("alice", "127.0.0.10", { keys: [alice.pub] });
    await env.addServer("web1");
    await env.grant("alice", "web1");
    const pub = await env.applianceKey("web1");
    await Deno.writeTextFile(join(env.sshd.dir, "authorized", env.sshd.user), pub + "\n", { append: true });
    const me: ClientId = { bind: "127.0.0.10", key: alice.path };
    const cli = cliFor(env.db.url, { JUMPHOST_DATA_DIR: env.dataDir });
    const sql = env.db.sql;

    const r = await sshWith(me, env.port, "127.0.0.1", `${env.sshd.user}@web1`, ["-tt"], [
      "echo sealed-$((40+2))",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /sealed-42/);
    const rec = await waitFor("the seal", async () => {
      const [x] = await sql<{ id: string; path: string; session_id: string; manifest: string }[]>`
        SELECT r.id::text AS id, r.path, s.session_id, m.manifest
        FROM recordings r JOIN sessions s ON s.id = r.session_id JOIN recording_seals m ON m.recording_id = r.id`;
      return x;
    });
    const path = rec.path;

    await t.step("the recording is sealed: manifest beside it (0600) and in the database", async () => {
      const manifest = JSON.parse(rec.manifest);
      assert.equal(manifest.recording_id, rec.id);
      assert.equal(manifest.session_id, rec.session_id);
      assert.equal(manifest.node, "test-node");
      const bytes = await Deno.readFile(path);
      assert.equal(manifest.size, bytes.length);
      const sum = await runTool("sha256sum", [path]);
      assert.equal(sum.out.split(" ")[0], manifest.sha256);
      assert.equal(await Deno.readTextFile(`${path}.manifest`), rec.manifest);
      assert.equal((await Deno.stat(`${path}.manifest`)).mode! & 0o777, 0o600);
      // the seal is also in the audit chain
      const [a] = await sql<{ sha256: string }[]>`
        SELECT details->>'sha256' AS sha256 FROM audit_log WHERE action = 'recording.sealed'`;
      assert.equal(a.sha256, manifest.sha256);
      // and checks with ssh-keygen against the published public key
      const allowed = join(env.dir, "allowed_signers");
      const pubLine = (await cli.ok(["audit", "public-key"])).trim();
      await Deno.writeTextFile(allowed, `jumphost namespaces="jumphost-recording" ${pubLine}\n`);
      const v = await runTool("ssh-keygen", [
        "-Y",
        "verify",
        "-f",
        allowed,
        "-I",
        "jumphost",
        "-n",
        "jumphost-recording",
        "-s",
        `${path}.manifest.sig`,
      ], { stdin: new TextEncoder().encode(rec.manifest) });
      assert.equal(v.code, 0, v.out);
    });

    await t.step("audit verify passes, then names an edited, a deleted and a reordered row", async () => {
      const ok = await cli.run(["audit", "verify"]);
      assert.equal(ok.code, 0, ok.stderr + ok.stdout);
      assert.match(ok.stdout, /verified/);
      const ids = (await sql<{ id: string }[]>`SELECT id::text AS id FROM audit_log ORDER BY id`).map((x) =>
        x.id
      );
      assert.ok(ids.length >= 5, ids.join(","));

      await sql`UPDATE audit_log SET actor = 'mallory' WHERE id = ${ids[1]}`;
      let v = await cli.run(["audit", "verify"]);
      assert.equal(v.code, 1);
      assert.match(v.stderr, new RegExp(`BROKEN edited: row ${ids[1]} .* was edited`));
      const js = JSON.parse((await cli.run(["audit", "verify", "--json"])).stdout);
      assert.deepEqual(js.problems.map((p: { kind: string; rowId: string }) => [p.kind, p.rowId]), [[
        "edited",
        ids[1],
      ]]);
      // the edited row deleted as well: now a deletion
      await sql`DELETE FROM audit_log WHERE id = ${ids[1]}`;
      v = await cli.run(["audit", "verify"]);
      assert.equal(v.code, 1);
      assert.match(
        v.stderr,
        new RegExp(`BROKEN deleted: rows are missing between row ${ids[0]} and row ${ids[2]}`),
      );

      await sql`UPDATE audit_log SET id = -1 WHERE id = ${ids[3]}`;
      await sql`UPDATE audit_log SET id = ${ids[3]} WHERE id = ${ids[4]}`;
      await sql`UPDATE audit_log SET id = ${ids[4]} WHERE id = -1`;
      v = await cli.run(["audit", "verify"]);
      assert.equal(v.code, 1);
      assert.match(
        v.stderr,
        new RegExp(`BROKEN reordered: row ${ids[3]} is out of order: it was written as row ${ids[4]}`),
      );
      assert.match(
        v.stderr,
        new RegExp(`BROKEN reordered: row ${ids[4]} is out of order: it was written as row ${ids[3]}`),
      );
      // put the rows back in order: only the deletion remains
      await sql`UPDATE audit_log SET id = -1 WHERE id = ${ids[3]}`;
      await sql`UPDATE audit_log SET id = ${ids[3]} WHERE id = ${ids[4]}`;
      await sql`UPDATE audit_log SET id = ${ids[4]} WHERE id = -1`;
      v = await cli.run(["audit", "verify", "--json"]);
      assert.deepEqual(JSON.parse(v.stdout).problems.map((p: { kind: string }) => p.kind), ["deleted"]);
    });

    await t.step("recordings verify: one byte flipped, then truncated, then deleted: named", async () => {
      const ok = await cli.run(["recordings", "verify", rec.id]);
      assert.equal(ok.code, 0, ok.stderr + ok.stdout);
      assert.match(ok.stdout, /1 verified, 0 unsealed, 0 broken/);
      const original = await Deno.readFile(path);
      const flipped = original.slice();
      flipped[Math.floor(flipped.length / 2)] ^= 0x01;
      await Deno.writeFile(path, flipped);
      let v = await cli.run(["recordings", "verify", rec.id]);
      assert.equal(v.code, 1);
      assert.match(v.stderr, new RegExp(`recording ${rec.id} .* BROKEN: the file's content was altered`));
      await Deno.writeFile(path, original.slice(0, original.length - 10));
      v = await cli.run(["recordings", "verify"]);
      assert.equal(v.code, 1);
      assert.match(v.stderr, /BROKEN: the file is truncated: \d+ bytes, sealed with \d+/);
      await Deno.writeFile(path, original);
      assert.equal((await cli.run(["recordings", "verify", rec.id])).code, 0);
      // a seal deleted from the database is still known to the audit chain
      await sql`DELETE FROM recording_seals WHERE recording_id = ${rec.id}`;
      v = await cli.run(["recordings", "verify", rec.id]);
      assert.equal(v.code, 1);
      assert.match(v.stderr, /its seal was removed \(audit row \d+ recorded it sealed/);
      // a seal put back by hand, signed by no trusted key
      await sql`INSERT INTO recording_seals (recording_id, manifest, signature, sshsig, public_key)
        VALUES (${rec.id}::bigint, ${rec.manifest}, ${new Uint8Array(64)}, '', ${"ssh-ed25519 AAAA"})`;
      v = await cli.run(["recordings", "verify", rec.id]);
      assert.equal(v.code, 1, "a forged seal with no valid signature");
      assert.match(v.stderr, /not trusted/);
    });
  } finally {
    await env.close();
  }
});

Deno.test("tamper evidence: sessions export verifies offline with ssh-keygen, openssl and sha256sum", async (t) => {
  const env = await startSshEnv();
  try {
    const alice = await env.key("alice");
    await env.addUser("alice", "127.0.0.10", { keys: [alice.pub] });
    await env.addServer("web1");
    await env.grant("alice", "web1");
    const pub = await env.applianceKey("web1");
    await Deno.writeTextFile(join(env.sshd.dir, "authorized", env.sshd.user), pub + "\n", { append: true });
    const me: ClientId = { bind: "127.0.0.10", key: alice.path };
    const cli = cliFor(env.db.url, { JUMPHOST_DATA_DIR: env.dataDir });
    // a first session, so the chain has rows before the exported one
    for (const word of ["first", "exported"]) {
      const r = await sshWith(me, env.port, "127.0.0.1", `${env.sshd.user}@web1`, ["-tt"], [`echo ${word}`]);
      assert.equal(r.code, 0, r.stderr);
    }
    const sid = await waitFor("two sealed recordings", async () => {
      const rows = await env.db.sql<{ session_id: string }[]>`
        SELECT s.session_id FROM recording_seals m JOIN recordings r ON r.id = m.recording_id
        JOIN sessions s ON s.id = r.session_id ORDER BY r.id`;
      const [{ n }] = await env.db.sql<{ n: number }[]>`
        SELECT count(*)::int AS n FROM audit_log WHERE action = 'ssh.session_end'`;
      return rows.length === 2 && n === 2 ? rows[1].session_id : null;
    });
    // one row after the session, before the export
    await env.db.sql`INSERT INTO audit_log (actor, action, success) VALUES ('admin', 'user.update', true)`;
    const out = join(env.dir, "bundle");
    const e = await cli.run(["sessions", "export", sid, "--out", out]);
    assert.equal(e.code, 0, e.stderr + e.stdout);
    assert.match(e.stdout, /1 recording\(s\), \d+ audit row\(s\)/);
    const md = await Deno.readTextFile(join(out, "VERIFY.md"));
    assert.match(md, /ssh-keygen -Y verify/);

    const bash = (cmd: string) => runTool("bash", ["-c", `set -e\n${cmd}`], { cwd: out });
    for (const cmd of [...VERIFY_COMMANDS.bundle, ...VERIFY_COMMANDS.recordings, ...VERIFY_COMMANDS.audit]) {
      assert.ok(md.includes(cmd), `VERIFY.md shows: ${cmd}`);
      const r = await bash(cmd);
      assert.equal(r.code, 0, `${cmd}\n${r.out}`);
    }
    // the manifests' raw signatures check with openssl too (sealed by this node)
    const ossl = await bash(`for m in recordings/*.manifest; do
      openssl pkeyutl -verify -pubin -inkey signing_key.pub.pem -rawin -in "$m" -sigfile "$m.ed25519"; done`);
    assert.equal(ossl.code, 0, ossl.out);
    assert.match(ossl.out, /Signature Verified Successfully/);
    const sessionRows = (await Deno.readTextFile(join(out, "audit", "SESSION_ROWS"))).trim().split("\n");
    const actions = await env.db.sql<{ action: string }[]>`
      SELECT action FROM audit_log WHERE id = ANY(${sessionRows}::bigint[]) ORDER BY id`;
    for (const a of ["ssh.session_start", "ssh.session_end", "recording.sealed", "session.export"]) {
      assert.ok(actions.some((x) => x.action === a), `${a} in ${JSON.stringify(actions)}`);
    }
    // the first session's rows are in the chain segment only if after the exported session's first row
    const chain = await Deno.readTextFile(join(out, "audit", "CHAIN.sha256"));
    assert.ok(sessionRows.every((id) => chain.includes(`rows/${id}.txt`)));

    await t.step("the same commands fail on a tampered bundle", async () => {
      const [cast] = [...Deno.readDirSync(join(out, "recordings"))].filter((f) => f.name.endsWith(".cast"))
        .map((f) => join(out, "recordings", f.name));
      const bytes = await Deno.readFile(cast);
      bytes[bytes.length - 3] ^= 0x20;
      await Deno.writeFile(cast, bytes);
      assert.notEqual((await bash(VERIFY_COMMANDS.bundle[2])).code, 0, "sha256sum -c");
      assert.notEqual((await bash(VERIFY_COMMANDS.recordings[0])).code, 0, "manifest hash");
      bytes[bytes.length - 3] ^= 0x20;
      await Deno.writeFile(cast, bytes);
      // an audit row edited in the bundle: its hash no longer matches
      const row = join(out, "audit", "rows", `${sessionRows[0]}.txt`);
      const text = await Deno.readTextFile(row);
      await Deno.writeTextFile(row, text.replace("alice", "alicf"));
      assert.notEqual((await bash(VERIFY_COMMANDS.audit[0])).code, 0, "CHAIN.sha256");
      await Deno.writeTextFile(row, text);
      // a row dropped from the chain list breaks a link
      const lines = chain.trimEnd().split("\n");
      if (lines.length >= 3) {
        await Deno.writeTextFile(
          join(out, "audit", "CHAIN.sha256"),
          [lines[0], ...lines.slice(2)].join("\n") + "\n",
        );
        assert.notEqual((await bash(VERIFY_COMMANDS.audit[1])).code, 0, "links");
      }
    });
  } finally {
    await env.close();
  }
});
