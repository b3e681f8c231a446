// The appliance's recordings identity: created once (0600 in a 0700 directory, age-keygen format, so the
// real `age` CLI reads it), refused when too open, and what the configuration makes recordings encrypted to.
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  loadRecordingIdentity,
  recordingEncryption,
  RecordingIdentityError,
  recordingIdentityPath,
} from "./recording_identity.ts";
import { AgeError, recipientOf } from "./age.ts";

Deno.test("recording identity: created on first need, the same afterwards, readable by age -d", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(() => loadRecordingIdentity(dir), RecordingIdentityError, "not created by readers");
    const id = await loadRecordingIdentity(dir, { create: true });
    assert.match(id, /^AGE-SECRET-KEY-1[0-9A-Z]+$/);
    assert.equal(await loadRecordingIdentity(dir), id);
    const path = recordingIdentityPath(dir);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    assert.equal((await Deno.stat(join(dir, "secret"))).mode! & 0o777, 0o700);
    const text = await Deno.readTextFile(path);
    assert.ok(text.includes(`# public key: ${await recipientOf(id)}\n`), text);

    // age encrypts to the public key, decrypts with the file as is
    const enc = await new Deno.Command("age", {
      args: ["-r", await recipientOf(id)],
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    const w = enc.stdin.getWriter();
    await w.write(new TextEncoder().encode("hello"));
    await w.close();
    const ct = (await enc.output()).stdout;
    await Deno.writeFile(join(dir, "x.age"), ct);
    const dec = await new Deno.Command("age", { args: ["-d", "-i", path, join(dir, "x.age")] }).output();
    assert.equal(new TextDecoder().decode(dec.stdout), "hello");

    await Deno.chmod(path, 0o640);
    await assert.rejects(() => loadRecordingIdentity(dir), /too open/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("recordingEncryption: off is null; age adds the appliance's own recipient; a bad one is an error", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assert.equal(
      await recordingEncryption({ recordingEncryption: "off", recordingRecipients: [] }, dir),
      null,
    );
    const other = await recipientOf(await loadRecordingIdentity(join(dir, "other"), { create: true }));
    const e = await recordingEncryption({ recordingEncryption: "age", recordingRecipients: [other] }, dir);
    const own = await recipientOf(await loadRecordingIdentity(dir));
    assert.deepEqual(e?.recipients, [own, other]);
    await assert.rejects(
      () => recordingEncryption({ recordingEncryption: "age", recordingRecipients: ["age1qqqq"] }, dir),
      (err) => err instanceof AgeError && err.code === "bad_recipient",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
