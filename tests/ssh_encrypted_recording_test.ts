// e2e (OpenSSH in a terminal → proxy → real sshd) with recording_encryption = age: the recording on disk is
// an age file (`.cast.age`, 0600) with no plaintext in it; the real `age` CLI decrypts it, with an
// auditor's own identity (a configured recording_recipient) and with the appliance's, into a valid
// asciicast holding the typed command; `jumphost sessions replay` plays it, search finds the command, the
// console serves the decrypted asciicast to its player, and the seal verifies over the stored file.
import assert from "node:assert/strict";
import { join } from "node:path";
import { startSshEnv } from "./helpers/ssh_env.ts";
import { clientArgs, type ClientId } from "./helpers/ssh_clients.ts";
import { Tmux } from "./helpers/tmux.ts";
import { cliFor } from "./helpers/cli.ts";
import { fixture } from "../web/testing.ts";
import { recordingIdentityPath } from "../core/recording_identity.ts";
import { VERIFY_COMMANDS } from "../cli/export_verify_md.ts";

async function ageKeygen(path: string): Promise<string> {
  const r = await new Deno.Command("age-keygen", { args: ["-o", path], stderr: "piped" }).output();
  assert.ok(r.success, new TextDecoder().decode(r.stderr));
  return /age1[0-9a-z]+/.exec(await Deno.readTextFile(path))![0];
}

async function ageDecrypt(identityFile: string, path: string): Promise<string> {
  const r = await new Deno.Command("age", { args: ["-d", "-i", identityFile, path], stderr: "piped" })
    .output();
  assert.ok(r.success, `age -d: ${new TextDecoder().decode(r.stderr)}`);
  return new TextDecoder().decode(r.stdout);
}

Deno.test("recording_encryption = age: an SSH session's recording is an age file that age -d, the CLI and the console read", async () => {
  const keysDir = await Deno.makeTempDir({ prefix: "jh-age-auditor-" });
  const auditorId = join(keysDir, "auditor.txt");
  const auditor = await ageKeygen(auditorId);
  const env = await startSshEnv({ encryptRecordingsTo: [auditor] });
  const tmux = new Tmux("age");
  try {
    const alice = await env.key("alice");
    await env.addUser("alice", "127.0.0.10", { keys: [alice.pub] });
    await env.addServer("web1");
    await env.grant("alice", "web1");
    const pub = await env.applianceKey("web1");
    await Deno.writeTextFile(join(env.sshd.dir, "authorized", env.sshd.user), pub + "\n", { append: true });
    const me: ClientId = { bind: "127.0.0.10", key: alice.path, opts: ["LogLevel=ERROR"] };
    const c = await clientArgs(me);
    // a terminal session, the command typed key by key at the prompt as a person does
    await tmux.start(
      ["ssh", ...c.args, "-tt", "-p", String(env.port), `${env.sshd.user}@web1@127.0.0.1`],
      c.env,
    );
    await tmux.waitFor(/\$ $/m);
    for (const ch of "echo sealed-$((20+22))") {
      await tmux.type(ch);
      await new Promise((r) => setTimeout(r, 15));
    }
    await tmux.keys("Enter");
    await tmux.waitFor(/^sealed-42$/m);
    await tmux.type("exit\n");
    await tmux.waitFor(/\[exit 0\]/);
    let sid = "";
    for (let i = 0; i < 100 && !sid; i++) {
      const [s] = await env.db.sql<{ session_id: string }[]>`
        SELECT session_id FROM sessions WHERE NOT is_active ORDER BY id DESC LIMIT 1`;
      if (s) sid = s.session_id;
      else await new Promise((res) => setTimeout(res, 50));
    }
    assert.ok(sid, "the session closed");
    const [rec] = await env.db.sql<{ id: number; path: string }[]>`
      SELECT r.id, r.path FROM recordings r JOIN sessions s ON s.id = r.session_id
      WHERE s.session_id = ${sid} AND r.kind = 'asciicast'`;

    // on disk: an age file, 0600, and nothing of the session in the clear
    assert.match(rec.path, /\.cast\.age$/);
    const stored = await Deno.readFile(rec.path);
    assert.equal(new TextDecoder().decode(stored.subarray(0, 22)), "age-encryption.org/v1\n");
    assert.equal((await Deno.stat(rec.path)).mode! & 0o777, 0o600);
    const raw = new TextDecoder("latin1").decode(stored);
    assert.ok(!raw.includes("sealed") && !raw.includes('"version"'), "no plaintext in the stored file");
    let plainFiles = 0;
    for await (const e of Deno.readDir(join(rec.path, ".."))) if (e.name.endsWith(".cast")) plainFiles++;
    assert.equal(plainFiles, 0, "no plaintext .cast beside it");

    // the real age CLI: the auditor's identity and the appliance's both give the asciicast
    for (const id of [auditorId, recordingIdentityPath(env.dataDir)]) {
      const cast = await ageDecrypt(id, rec.path);
      const [header, ...events] = cast.trimEnd().split("\n");
      assert.equal(JSON.parse(header).version, 2);
      for (const e of events) assert.ok(Array.isArray(JSON.parse(e)), e);
      assert.match(cast, /"i", "e"\]/, "typed keys are input events");
      assert.match(cast, /"o", "[^"]*sealed-42/);
    }

    const cli = cliFor(env.db.url, {
      JUMPHOST_RECORDINGS_DIR: env.recordingsDir,
      JUMPHOST_DATA_DIR: env.dataDir,
    });
    // replay and search decrypt with the appliance's identity
    const played = await cli.ok(["sessions", "replay", sid, "--cat"]);
    assert.match(played, /sealed-42/);
    const found = await cli.ok(["search", "sealed-$((20+22))"]);
    assert.ok(found.includes(sid), `search finds the typed command in the encrypted recording: ${found}`);
    // the seal covers the file as stored
    const verify = await cli.ok(["recordings", "verify", String(rec.id)]);
    assert.match(verify, /ok/i, verify);

    // the export bundle carries the file as stored; VERIFY.md's commands check it without any key, and the
    // auditor decrypts the bundle's copy with age
    const out = join(env.dir, "bundle");
    await cli.ok(["sessions", "export", sid, "--out", out]);
    const [inBundle] = [...Deno.readDirSync(join(out, "recordings"))].map((e) => e.name)
      .filter((n) => n.endsWith(".cast.age"));
    assert.ok(inBundle, "the bundle holds the .cast.age");
    assert.match(await Deno.readTextFile(join(out, "VERIFY.md")), /age -d -i/);
    for (const cmd of [...VERIFY_COMMANDS.bundle, ...VERIFY_COMMANDS.recordings]) {
      const v = await new Deno.Command("bash", {
        args: ["-c", `set -e\n${cmd}`],
        cwd: out,
        stdout: "null",
        stderr: "piped",
      })
        .output();
      assert.ok(v.success, `${cmd}: ${new TextDecoder().decode(v.stderr)}`);
    }
    assert.match(await ageDecrypt(auditorId, join(out, "recordings", inBundle)), /sealed-42/);

    // the console serves the decrypted asciicast to its player
    const fx = await fixture({ recordingsDir: env.recordingsDir, dataDir: env.dataDir }, env.db);
    const a = await fx.as("auditor");
    const page = await a.page(`/sessions/${sid}`);
    assert.match(page.html, /data-player data-src="\/sessions\/[^"]+\/cast"/);
    const dl = await a.get(`/sessions/${sid}/cast`);
    assert.equal(dl.status, 200);
    const cast = await dl.text();
    assert.equal(JSON.parse(cast.split("\n")[0]).version, 2);
    assert.match(cast, /sealed-42/);

    // without the identity the appliance cannot read it, and says why
    await Deno.rename(recordingIdentityPath(env.dataDir), `${recordingIdentityPath(env.dataDir)}.away`);
    const gone = await cli.run(["sessions", "replay", sid, "--cat"]);
    assert.notEqual(gone.code, 0);
    assert.match(gone.stderr, /recordings\.agekey: does not exist/);
    await Deno.rename(`${recordingIdentityPath(env.dataDir)}.away`, recordingIdentityPath(env.dataDir));

    // a file cut off on disk: replay says so instead of ending quietly
    await Deno.writeFile(rec.path, stored.subarray(0, stored.length - 5));
    const cut = await cli.run(["sessions", "replay", sid, "--cat"]);
    assert.notEqual(cut.code, 0);
    assert.match(cut.stderr, /the encrypted recording ends early or was altered/);
  } finally {
    await tmux.kill();
    await env.close();
    await Deno.remove(keysDir, { recursive: true });
  }
});
