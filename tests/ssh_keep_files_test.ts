// e2e (OpenSSH scp/sftp → proxy → real sshd): files moved by scp (SFTP and the legacy protocol) carry the
// SHA-256 of their content in both directions; where the server's group keeps files, the content itself is
// stored under the recordings directory by its hash (0600, deduplicated), and a file over the group's cap
// keeps metadata and hash only, saying so.
import assert from "node:assert/strict";
import { join } from "node:path";
import { startSshEnv } from "./helpers/ssh_env.ts";
import { type ClientId, scp, sftpBatch } from "./helpers/ssh_clients.ts";
import { runTool } from "./helpers/tools.ts";
import { cliFor } from "./helpers/cli.ts";
import { fixture } from "../web/testing.ts";
import { mountTmpfs, umount } from "./helpers/tmpfs.ts";
import { keptFilePath } from "../recorder/file_store.ts";
import { recordingIdentityPath } from "../core/recording_identity.ts";
import type { Transfer } from "../proxy/ssh/transfer_tap.ts";

async function granted(o: { encrypted?: boolean } = {}) {
  const env = await startSshEnv(o.encrypted ? { encryptRecordingsTo: [] } : {});
  const alice = await env.key("alice");
  await env.addUser("alice", "127.0.0.10", { keys: [alice.pub] });
  await env.addServer("web1");
  await env.grant("alice", "web1");
  const pub = await env.applianceKey("web1");
  await Deno.writeTextFile(join(env.sshd.dir, "authorized", env.sshd.user), pub + "\n", { append: true });
  const me: ClientId = { bind: "127.0.0.10", key: alice.path, opts: ["LogLevel=ERROR"] };
  return { env, me, target: `${env.sshd.user}@web1@127.0.0.1`, home: `/home/${env.sshd.user}` };
}

type Env = Awaited<ReturnType<typeof granted>>["env"];

/** The transfers of the session `n` (1-based, in start order), once it has closed. */
async function transfersOf(env: Env, n: number): Promise<Transfer[]> {
  for (let i = 0; i < 200; i++) {
    const rows = await env.db.sql<{ is_active: boolean; metadata: { transfers?: Transfer[] } }[]>`
      SELECT is_active, metadata FROM sessions ORDER BY id`;
    const s = rows[n - 1];
    if (s && !s.is_active) return (s.metadata.transfers ?? []).filter((t) => t.bytes > 0);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`session ${n} did not close`);
}

async function randomFile(path: string, size: number): Promise<string> {
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) {
    data.set(crypto.getRandomValues(new Uint8Array(Math.min(65536, size - i))), i);
  }
  await Deno.writeFile(path, data);
  const r = await runTool("sha256sum", [path]);
  assert.equal(r.code, 0, r.out);
  return r.out.split(" ")[0];
}

function cli(env: Env) {
  return cliFor(env.db.url, { JUMPHOST_RECORDINGS_DIR: env.recordingsDir, JUMPHOST_DATA_DIR: env.dataDir });
}

/** Through the CLI, as an admin would: a server group with web1 that keeps files up to `maxMb`. */
async function keepFiles(env: Env, maxMb: number): Promise<void> {
  const c = cli(env);
  await c.ok(["group", "add", "kept"]);
  await c.ok(["group", "member", "add", "kept", "web1"]);
  await c.ok(["group", "edit", "kept", "--keep-files", "on", "--keep-files-max-mb", String(maxMb)]);
  assert.match(
    await c.ok(["group", "show", "kept"]),
    new RegExp(`keep files\\s+on \\(up to ${maxMb} MiB per file\\)`),
  );
}

Deno.test("scp up and down (SFTP and legacy): SHA-256 both ways; not kept without the group option", async () => {
  const { env, me, target, home } = await granted();
  try {
    const file = join(env.dir, "data.bin");
    const want = await randomFile(file, 300_000);
    let n = 0;
    for (const legacy of [false, true]) {
      const extra = legacy ? ["-O"] : [];
      const remote = `${home}/plain-${legacy}.bin`;
      const up = await scp(me, env.port, [...extra, file, `${target}:${remote}`]);
      assert.equal(up.code, 0, up.stderr);
      const back = join(env.dir, `back-${legacy}.bin`);
      const down = await scp(me, env.port, [...extra, `${target}:${remote}`, back]);
      assert.equal(down.code, 0, down.stderr);
      const [u] = await transfersOf(env, ++n);
      const [d] = await transfersOf(env, ++n);
      assert.equal(u.sha256, want, "upload hashed");
      assert.equal(d.sha256, want, "download hashed");
      assert.equal(u.kept, undefined, "no group keeps files: nothing said about keeping");
    }
    await assert.rejects(Deno.stat(join(env.recordingsDir, "files")), Deno.errors.NotFound);
  } finally {
    await env.close();
  }
});

Deno.test("keep files on: scp and sftp content stored by SHA-256 (0600, deduplicated); over the cap, hash only", async () => {
  const { env, me, target, home } = await granted();
  try {
    await keepFiles(env, 1);
    const small = join(env.dir, "small.bin");
    const want = await randomFile(small, 400_000);
    let n = 0;
    for (const legacy of [false, true]) {
      const extra = legacy ? ["-O"] : [];
      const remote = `${home}/kept-${legacy}.bin`;
      const up = await scp(me, env.port, [...extra, small, `${target}:${remote}`]);
      assert.equal(up.code, 0, up.stderr);
      const down = await scp(me, env.port, [...extra, `${target}:${remote}`, join(env.dir, `b-${legacy}`)]);
      assert.equal(down.code, 0, down.stderr);
      for (const t of [...await transfersOf(env, ++n), ...await transfersOf(env, ++n)]) {
        assert.equal(t.sha256, want, `${t.protocol} ${t.op} hashed`);
        assert.equal(t.kept, true, `${t.protocol} ${t.op} kept`);
      }
    }
    const path = keptFilePath(env.recordingsDir, want)!;
    assert.deepEqual(await Deno.readFile(path), await Deno.readFile(small), "the stored content is the file");
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    assert.equal((await Deno.stat(join(path, ".."))).mode! & 0o777, 0o700);
    const r = await runTool("sha256sum", [path]);
    assert.equal(r.out.split(" ")[0], want);
    // four transfers of one content: one file, nothing left in tmp
    const stored = [...Deno.readDirSync(join(env.recordingsDir, "files"))].map((e) => e.name).sort();
    assert.deepEqual(stored, [want.slice(0, 2), "tmp"]);
    assert.deepEqual([...Deno.readDirSync(join(env.recordingsDir, "files", "tmp"))], []);

    // over the 1 MiB cap: metadata and hash, the reason, no content (sftp put, then legacy scp)
    const big = join(env.dir, "big.bin");
    const bigSha = await randomFile(big, 1_500_000);
    const put = await sftpBatch(me, env.port, target, `put ${big} ${home}/big.bin\n`);
    assert.equal(put.code, 0, put.stderr);
    const legacyUp = await scp(me, env.port, ["-O", big, `${target}:${home}/big2.bin`]);
    assert.equal(legacyUp.code, 0, legacyUp.stderr);
    for (const t of [...await transfersOf(env, ++n), ...await transfersOf(env, ++n)]) {
      assert.equal(t.sha256, bigSha);
      assert.equal(t.kept, false);
      assert.equal(t.not_kept, "over_cap");
      assert.equal(t.cap_bytes, 2 ** 20);
    }
    await assert.rejects(Deno.stat(keptFilePath(env.recordingsDir, bigSha)!), Deno.errors.NotFound);
    assert.deepEqual([...Deno.readDirSync(join(env.recordingsDir, "files", "tmp"))], []);

    // the CLI shows the hashes and writes the kept file out, audited
    const [first] = await env.db.sql<
      { session_id: string }[]
    >`SELECT session_id FROM sessions ORDER BY id LIMIT 1`;
    const c = cli(env);
    const show = await c.ok(["sessions", "show", first.session_id]);
    assert.ok(show.includes(want) && show.includes("kept"), show);
    const out = join(env.dir, "out.bin");
    await c.ok(["sessions", "file", first.session_id, want, "--out", out]);
    assert.deepEqual(await Deno.readFile(out), await Deno.readFile(small));
    assert.equal((await Deno.stat(out)).mode! & 0o777, 0o600);
    const refused = await c.run(["sessions", "file", first.session_id, bigSha, "--out", join(env.dir, "x")]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /no kept file/);

    // the console lists the transfers with their hashes and serves the kept file to an auditor
    const fx = await fixture({ recordingsDir: env.recordingsDir }, env.db);
    const auditor = await fx.as("auditor");
    const page = await auditor.page(`/sessions/${first.session_id}`);
    assert.ok(page.html.includes(`href="/sessions/${first.session_id}/files/${want}"`), "download link");
    const dl = await auditor.get(`/sessions/${first.session_id}/files/${want}`);
    assert.equal(dl.status, 200);
    assert.deepEqual(new Uint8Array(await dl.arrayBuffer()), await Deno.readFile(small));

    const audits = await env.db.sql<{ target: string; details: Record<string, unknown> }[]>`
      SELECT target, details FROM audit_log WHERE action = 'recording.download' ORDER BY id`;
    assert.deepEqual(audits.map((a) => [a.target, a.details.format, a.details.sha256, a.details.via]), [
      [first.session_id, "file", want, "cli"],
      [first.session_id, "file", want, "download"],
    ]);
  } finally {
    await env.close();
  }
});

Deno.test("keep files with recording_encryption = age: stored as <sha256>.age, read by age -d, the CLI and the console", async () => {
  const { env, me, target, home } = await granted({ encrypted: true });
  try {
    await keepFiles(env, 1);
    const small = join(env.dir, "small.bin");
    const want = await randomFile(small, 300_000);
    const up = await scp(me, env.port, [small, `${target}:${home}/kept-age.bin`]);
    assert.equal(up.code, 0, up.stderr);
    const [t] = await transfersOf(env, 1);
    assert.equal(t.kept, true);
    const base = keptFilePath(env.recordingsDir, want)!;
    await assert.rejects(Deno.stat(base), Deno.errors.NotFound, "no plaintext copy");
    const stored = await Deno.readFile(`${base}.age`);
    assert.equal(new TextDecoder().decode(stored.subarray(0, 22)), "age-encryption.org/v1\n");
    assert.equal((await Deno.stat(`${base}.age`)).mode! & 0o777, 0o600);
    const dec = await new Deno.Command("age", {
      args: ["-d", "-i", recordingIdentityPath(env.dataDir), `${base}.age`],
    }).output();
    assert.ok(dec.success);
    assert.deepEqual(dec.stdout, await Deno.readFile(small));
    assert.deepEqual([...Deno.readDirSync(join(env.recordingsDir, "files", "tmp"))], []);

    const [first] = await env.db.sql<
      { session_id: string }[]
    >`SELECT session_id FROM sessions ORDER BY id LIMIT 1`;
    const out = join(env.dir, "out.bin");
    await cli(env).ok(["sessions", "file", first.session_id, want, "--out", out]);
    assert.deepEqual(await Deno.readFile(out), await Deno.readFile(small));
    const fx = await fixture({ recordingsDir: env.recordingsDir, dataDir: env.dataDir }, env.db);
    const dl = await (await fx.as("auditor")).get(`/sessions/${first.session_id}/files/${want}`);
    assert.equal(dl.status, 200);
    assert.deepEqual(new Uint8Array(await dl.arrayBuffer()), await Deno.readFile(small));
  } finally {
    await env.close();
  }
});

Deno.test({
  name:
    "keep files on a full disk: fails closed like a recording (recording.failed, session ended, no leftovers)",
  ignore: Deno.uid() !== 0, // mount needs root
  async fn() {
    const { env, me, target, home } = await granted();
    const files = join(env.recordingsDir, "files");
    await mountTmpfs(files, "1m");
    try {
      await keepFiles(env, 1000);
      const big = join(env.dir, "big.bin");
      await randomFile(big, 3_000_000);
      const up = await scp(me, env.port, ["-O", big, `${target}:${home}/full.bin`]);
      assert.notEqual(up.code, 0, "the transfer is cut");
      await env.proxy.auditsSettled();
      let failed: { details: Record<string, unknown> }[] = [];
      for (let i = 0; i < 100 && failed.length === 0; i++) {
        failed = await env.db.sql`SELECT details FROM audit_log WHERE action = 'recording.failed'`;
        if (!failed.length) await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(failed.length, 1);
      assert.match(String(failed[0].details.error), /cannot keep a transferred file/);
      assert.equal(failed[0].details.on_recording_failure, "disconnect");
      const [t] = await transfersOf(env, 1);
      assert.equal(t.kept, false);
      assert.equal(t.not_kept, "error");
      const [row] = await env.db.sql<{ termination_reason: string; termination_detail: string }[]>`
        SELECT termination_reason, termination_detail FROM sessions`;
      assert.equal(row.termination_reason, "error");
      assert.match(row.termination_detail, /recording failed: cannot keep a transferred file/);
      assert.deepEqual([...Deno.readDirSync(join(files, "tmp"))], [], "the partial copy is removed");
    } finally {
      await umount(files);
      await env.close();
    }
  },
});
