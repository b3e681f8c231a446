// The encrypted recording sink against the real `age` CLI (Debian package age): files it writes decrypt
// with `age -d`, files `age` writes decrypt with our reader, and a file is valid at every flush.
import assert from "node:assert/strict";
import { Decrypter, Encrypter } from "age-encryption";
import { AgeError, newIdentity, recipientOf } from "../core/age.ts";
import { ageDecrypt, AgeFileReader } from "../core/age_file.ts";
import { createRecordingFile } from "./recording_file.ts";

async function cliDecrypt(path: string, identityFile: string): Promise<{ ok: boolean; out: Uint8Array }> {
  const r = await new Deno.Command("age", { args: ["-d", "-i", identityFile, path], stderr: "null" })
    .output();
  return { ok: r.success, out: r.stdout };
}

async function setup() {
  const dir = await Deno.makeTempDir();
  const identity = await newIdentity();
  const idFile = `${dir}/id.txt`;
  await Deno.writeTextFile(idFile, identity + "\n");
  return { dir, identity, idFile, recipient: await recipientOf(identity) };
}

/** our reader (npm:age-encryption's Decrypter underneath): the plaintext, or the AgeError it ended with */
async function readAgeFile(path: string, identity: string): Promise<{ plain: Uint8Array; error: unknown }> {
  using f = await Deno.open(path, { read: true });
  const parts: number[] = [];
  const r = (await ageDecrypt(f.readable, identity)).getReader();
  try {
    while (true) {
      const { done, value } = await r.read();
      if (done) break;
      parts.push(...value);
    }
  } catch (e) {
    return { plain: new Uint8Array(parts), error: e };
  }
  return { plain: new Uint8Array(parts), error: null };
}

function pattern(n: number, seed = 7): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed + (i >> 8)) & 0xff;
  return b;
}

Deno.test("age sink: every size around the chunk boundary decrypts with age -d, the name ends in .age, 0600", async () => {
  const t = await setup();
  for (const size of [0, 1, 65535, 65536, 65537, 131072, 200_000]) {
    const data = pattern(size);
    const { path, sink } = await createRecordingFile(`${t.dir}/r${size}.cast`, { recipients: [t.recipient] });
    assert.ok(path.endsWith(".cast.age"));
    for (let o = 0; o < size; o += 7000) await sink.write(data.subarray(o, Math.min(size, o + 7000)));
    await sink.close();
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    const d = await cliDecrypt(path, t.idFile);
    assert.ok(d.ok, `age -d failed at ${size}`);
    assert.deepEqual(d.out, data);
    const ours = await readAgeFile(path, t.identity);
    assert.equal(ours.error, null);
    assert.deepEqual(ours.plain, data);
  }
  await Deno.remove(t.dir, { recursive: true });
});

Deno.test("age sink: several recipients; a file from the age CLI reads with our reader", async () => {
  const t = await setup();
  const other = await newIdentity();
  const otherFile = `${t.dir}/other.txt`;
  await Deno.writeTextFile(otherFile, other + "\n");
  const data = pattern(100_000, 3);
  const { path, sink } = await createRecordingFile(`${t.dir}/two`, {
    recipients: [t.recipient, await recipientOf(other)],
  });
  await sink.write(data);
  await sink.close();
  assert.deepEqual((await cliDecrypt(path, otherFile)).out, data);
  assert.deepEqual((await cliDecrypt(path, t.idFile)).out, data);

  const plain = `${t.dir}/plain.bin`;
  await Deno.writeFile(plain, data);
  const r = await new Deno.Command("age", { args: ["-r", t.recipient, "-o", `${plain}.age`, plain] })
    .output();
  assert.ok(r.success);
  assert.deepEqual((await readAgeFile(`${plain}.age`, t.identity)).plain, data);
  // and the library's own Decrypter reads ours, its Encrypter's output reads with the CLI
  const d = new Decrypter();
  d.addIdentity(other);
  assert.deepEqual(await d.decrypt(await Deno.readFile(path)), data);
  const e = new Encrypter();
  e.addRecipient(t.recipient);
  await Deno.writeFile(`${t.dir}/lib.age`, await e.encrypt(data));
  assert.deepEqual((await cliDecrypt(`${t.dir}/lib.age`, t.idFile)).out, data);
  await Deno.remove(t.dir, { recursive: true });
});

Deno.test("age sink: while it streams the file is valid after each flush and the live reader follows it", async () => {
  const t = await setup();
  const { path, sink } = await createRecordingFile(`${t.dir}/live.cast`, {
    recipients: [t.recipient],
    flushMs: 30,
  });
  using f = await Deno.open(path, { read: true });
  const reader = new AgeFileReader(f, t.identity);
  const sent: number[] = [];
  let got: number[] = [];
  for (let i = 0; i < 12; i++) {
    const piece = pattern(i === 5 ? 70_000 : 900, i); // one write crosses a chunk boundary
    await sink.write(piece);
    sent.push(...piece);
    await new Promise((r) => setTimeout(r, 80)); // past flushMs: on disk as a valid age file
    const d = await cliDecrypt(path, t.idFile);
    assert.ok(d.ok, `not a valid age file after write ${i}`);
    assert.deepEqual([...d.out], sent);
    got = got.concat([...(await reader.poll())]);
    assert.equal(got.length, sent.length);
  }
  await sink.close();
  assert.deepEqual(got, sent);
  await Deno.remove(t.dir, { recursive: true });
});

Deno.test("age sink: a torn tail (killed mid-write) still decrypts up to the last complete chunk", async () => {
  const t = await setup();
  const data = pattern(3 * 65536 + 5000);
  const { path, sink } = await createRecordingFile(`${t.dir}/torn`, { recipients: [t.recipient] });
  await sink.write(data);
  await sink.close();
  const full = await Deno.readFile(path);
  // cut inside the last chunk: the three full chunks before it survive
  await Deno.writeFile(path, full.subarray(0, full.length - 2000));
  const ours = await readAgeFile(path, t.identity);
  assert.deepEqual(ours.plain, data.subarray(0, 3 * 65536));
  assert.ok(ours.error instanceof AgeError && ours.error.code === "truncated", String(ours.error));
  assert.match((ours.error as Error).message, /ends early or was altered after 196608 readable bytes/);
  const d = await cliDecrypt(path, t.idFile);
  assert.equal(d.ok, false, "age reports the truncation");
  assert.deepEqual(d.out, data.subarray(0, 3 * 65536), "age -d still prints the complete chunks");
  await Deno.remove(t.dir, { recursive: true });
});

Deno.test("age reader: a file cut inside its header, or for another identity, is a clear error", async () => {
  const t = await setup();
  const { path, sink } = await createRecordingFile(`${t.dir}/h`, { recipients: [t.recipient] });
  await sink.write(pattern(100));
  await sink.close();
  const full = await Deno.readFile(path);
  await Deno.writeFile(`${t.dir}/cut`, full.subarray(0, 40));
  using cut = await Deno.open(`${t.dir}/cut`, { read: true });
  await assert.rejects(
    () => ageDecrypt(cut.readable, t.identity),
    (e) => e instanceof AgeError && e.code === "bad_header",
  );
  using f = await Deno.open(path, { read: true });
  await assert.rejects(
    async () => ageDecrypt(f.readable, await newIdentity()),
    (e) => e instanceof AgeError && e.code === "no_match",
  );
  await Deno.remove(t.dir, { recursive: true });
});

Deno.test("age sink: a bad recipient fails before any file exists", async () => {
  const t = await setup();
  await assert.rejects(
    () => createRecordingFile(`${t.dir}/x`, { recipients: ["age1notakey"] }),
    (e) => e instanceof AgeError && e.code === "bad_recipient",
  );
  assert.deepEqual([...Deno.readDirSync(t.dir)].map((e) => e.name), ["id.txt"]);
  await Deno.remove(t.dir, { recursive: true });
});
