// e2e (OpenSSH client → proxy → real sshd): a channel without a terminal is recorded too. `ssh -T host bash -i`
// is a whole interactive shell with no PTY: what was typed, printed and reported on stderr is in its
// recording, and the channel's metadata carries each direction's byte count and SHA-256. Bulk output past
// the stream limit is counted and hashed, not kept, and the recording says where it stopped.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { startSshEnv } from "./helpers/ssh_env.ts";
import { type ClientId, ssh } from "./helpers/ssh_clients.ts";

async function granted(streamKeepBytes?: number) {
  const env = await startSshEnv({ streamKeepBytes });
  const alice = await env.key("alice");
  await env.addUser("alice", "127.0.0.10", { keys: [alice.pub] });
  await env.addServer("web1");
  await env.grant("alice", "web1");
  const pub = await env.applianceKey("web1");
  await Deno.writeTextFile(join(env.sshd.dir, "authorized", env.sshd.user), pub + "\n", { append: true });
  const me: ClientId = { bind: "127.0.0.10", key: alice.path, opts: ["LogLevel=ERROR"] };
  return { env, me, target: `${env.sshd.user}@web1` };
}

interface Channel {
  type: string;
  command?: string;
  recording?: string;
  streams?: Record<string, { bytes: number; sha256: string; not_kept?: number }>;
}

async function lastSessionChannels(env: Awaited<ReturnType<typeof granted>>["env"]): Promise<Channel[]> {
  await env.proxy.auditsSettled();
  for (let i = 0; i < 100; i++) {
    const [s] = await env.db.sql<{ is_active: boolean; metadata: { channels?: Channel[] } }[]>`
      SELECT is_active, metadata FROM sessions ORDER BY id DESC LIMIT 1`;
    if (s && !s.is_active) return s.metadata.channels ?? [];
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("the session did not close");
}

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

function events(cast: string): [number, string, string][] {
  return cast.trim().split("\n").slice(1).map((l) => JSON.parse(l));
}

Deno.test("ssh -T host bash -i: typed commands, output and stderr recorded, streams hashed", async () => {
  const { env, me, target } = await granted();
  try {
    const typed = "echo hello-$((6*7))\nls /no-such-dir-xyz\nexit 3\n";
    const r = await ssh(me, env.port, "127.0.0.1", target, ["-T", "bash --norc -i"], { stdin: typed });
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stdout, "hello-42\n");
    assert.match(r.stderr, /no-such-dir-xyz/);
    const [ch] = await lastSessionChannels(env);
    assert.equal(ch.type, "exec");
    assert.equal(ch.command, "bash --norc -i");
    assert.ok(ch.recording, "the channel has a recording");
    const [rec] = await env.db.sql<{ kind: string; channel: string; path: string }[]>`
      SELECT kind, channel, path FROM recordings`;
    assert.equal(rec.kind, "asciicast");
    assert.equal(rec.channel, "exec: bash --norc -i");
    const ev = events(await Deno.readTextFile(rec.path));
    const input = ev.filter((e) => e[1] === "i").map((e) => e[2]).join("");
    const output = ev.filter((e) => e[1] === "o").map((e) => e[2]).join("");
    assert.equal(input, typed, "stdin kept as typed");
    assert.match(output, /hello-42\r\n/, "stdout, shown as a terminal would");
    assert.match(output, /ls: cannot access '\/no-such-dir-xyz'/, "stderr");
    assert.match(output, /echo hello-\$\(\(6\*7\)\)\r\n/, "what was typed shows where it was typed");
    // the hashes prove every byte each way
    assert.deepEqual(ch.streams!.stdin, { bytes: typed.length, sha256: sha256(typed) });
    assert.deepEqual(ch.streams!.stdout, { bytes: r.stdout.length, sha256: sha256(r.stdout) });
    assert.ok(ch.streams!.stderr.bytes > 0);
  } finally {
    await env.close();
  }
});

Deno.test("a channel without a terminal keeps its stream up to the limit; the rest is counted and hashed", async () => {
  const { env, me, target } = await granted(1000);
  try {
    const r = await ssh(me, env.port, "127.0.0.1", target, ["head -c 5000 /dev/zero | tr '\\0' x"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "x".repeat(5000));
    const [ch] = await lastSessionChannels(env);
    assert.deepEqual(ch.streams!.stdout, { bytes: 5000, sha256: sha256(r.stdout), not_kept: 4000 });
    const [rec] = await env.db.sql<{ path: string }[]>`SELECT path FROM recordings`;
    const ev = events(await Deno.readTextFile(rec.path));
    assert.equal(ev.filter((e) => e[1] === "o").map((e) => e[2]).join(""), "x".repeat(1000));
    const markers = ev.filter((e) => e[1] === "m");
    assert.equal(markers.length, 1);
    assert.match(markers[0][2], /^stdout: the recording keeps only the start; further bytes are counted/);
  } finally {
    await env.close();
  }
});

Deno.test("binary output of a channel without a terminal is hashed, not kept, and marked", async () => {
  const { env, me, target } = await granted();
  try {
    const r = await ssh(me, env.port, "127.0.0.1", target, [
      "f=$(mktemp); head -c 200000 /dev/urandom > $f; sha256sum $f >&2; cat $f; rm $f",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const [ch] = await lastSessionChannels(env);
    assert.equal(ch.streams!.stdout.bytes, 200000);
    assert.equal(ch.streams!.stdout.sha256, r.stderr.split(" ")[0], "the hash of every byte sent");
    assert.ok(ch.streams!.stdout.not_kept! >= 190000, `${ch.streams!.stdout.not_kept} bytes not kept`);
    const [rec] = await env.db.sql<{ path: string; size: number }[]>`SELECT path, size FROM recordings`;
    const ev = events(await Deno.readTextFile(rec.path));
    assert.ok(ev.some((e) => e[1] === "m" && e[2] === "stdout: binary data, counted and hashed, not kept"));
    assert.ok((await Deno.stat(rec.path)).size < 50_000, "the recording is not the size of the data");
  } finally {
    await env.close();
  }
});
