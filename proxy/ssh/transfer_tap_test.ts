import assert from "node:assert/strict";
import { parseScpCommand, ScpTap } from "./scp_tap.ts";
import { SftpTap } from "./sftp_tap.ts";
import { type Transfer, TransferTapError } from "./transfer_tap.ts";
import { createHash } from "node:crypto";

const sha = (...parts: Uint8Array[]) => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest("hex");
};

const enc = new TextEncoder();
function u32(n: number): number[] {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
}
function str(s: string | Uint8Array): number[] {
  const b = typeof s === "string" ? enc.encode(s) : s;
  return [...u32(b.length), ...b];
}
function packet(type: number, ...fields: number[][]): Uint8Array {
  const body = [type, ...fields.flat()];
  return new Uint8Array([...u32(body.length), ...body]);
}
/** feeds bytes in awkward chunk sizes, as SSH channel data arrives */
function feed(parser: { push(b: Uint8Array): void }, data: Uint8Array, step = 7): void {
  for (let i = 0; i < data.length; i += step) parser.push(data.subarray(i, i + step));
}

Deno.test("SftpTap reports an uploaded file's name and size without buffering its data", () => {
  const out: Transfer[] = [];
  const tap = new SftpTap((t) => out.push(t));
  const handle = enc.encode("h1");
  const data = new Uint8Array(100_000).fill(7);
  feed(tap.fromClient, packet(1, u32(3)));
  feed(tap.fromClient, packet(3, u32(1), str("/tmp/up.bin"), u32(2 | 8 | 16), u32(0)));
  feed(tap.fromServer, packet(102, u32(1), str(handle)));
  feed(tap.fromClient, packet(6, u32(2), str(handle), u32(0), u32(0), str(data)), 4096);
  feed(tap.fromClient, packet(6, u32(3), str(handle), u32(0), u32(100_000), str(data.subarray(0, 5))));
  assert.deepEqual(out, []);
  feed(tap.fromClient, packet(4, u32(4), str(handle)));
  assert.deepEqual(out, [{
    protocol: "sftp",
    op: "write",
    path: "/tmp/up.bin",
    bytes: 100_005,
    sha256: sha(data, data.subarray(0, 5)),
  }]);
});

Deno.test("SftpTap: a file written out of order, or read from the middle, has no content hash", () => {
  const out: Transfer[] = [];
  const tap = new SftpTap((t) => out.push(t));
  const handle = enc.encode("h2");
  tap.fromClient.push(packet(3, u32(1), str("/tmp/x"), u32(2), u32(0)));
  tap.fromServer.push(packet(102, u32(1), str(handle)));
  tap.fromClient.push(packet(6, u32(2), str(handle), u32(0), u32(10), str(new Uint8Array(5))));
  tap.fromClient.push(packet(6, u32(3), str(handle), u32(0), u32(0), str(new Uint8Array(10))));
  tap.fromClient.push(packet(4, u32(4), str(handle)));
  assert.deepEqual(out, [{ protocol: "sftp", op: "write", path: "/tmp/x", bytes: 15 }]);
});

Deno.test("SftpTap counts downloaded bytes from DATA replies, and reports renames and removes", () => {
  const out: Transfer[] = [];
  const tap = new SftpTap((t) => out.push(t));
  const handle = enc.encode("hh");
  tap.fromClient.push(packet(3, u32(9), str("etc/passwd"), u32(1), u32(0)));
  tap.fromServer.push(packet(102, u32(9), str(handle)));
  tap.fromClient.push(packet(5, u32(10), str(handle), u32(0), u32(0), u32(32768)));
  feed(tap.fromServer, packet(103, u32(10), str(new Uint8Array(1234))), 100);
  tap.fromClient.push(packet(18, u32(11), str("a"), str("b")));
  tap.fromClient.push(packet(13, u32(12), str("c")));
  tap.fromClient.push(packet(200, u32(13), str("posix-rename@openssh.com"), str("d"), str("e")));
  tap.finish();
  assert.deepEqual(out, [
    { protocol: "sftp", op: "rename", path: "a", to: "b", bytes: 0 },
    { protocol: "sftp", op: "remove", path: "c", bytes: 0 },
    { protocol: "sftp", op: "rename", path: "d", to: "e", bytes: 0 },
    { protocol: "sftp", op: "read", path: "etc/passwd", bytes: 1234, sha256: sha(new Uint8Array(1234)) },
  ]);
});

Deno.test("SftpTap rejects oversized and truncated packets with a typed error", () => {
  const tap = new SftpTap(() => {});
  assert.throws(() => tap.fromClient.push(new Uint8Array([0x7f, 0, 0, 0, 3])), TransferTapError);
  const tap2 = new SftpTap(() => {});
  // an OPEN whose filename length overruns the packet
  assert.throws(() => tap2.fromClient.push(packet(3, u32(1), u32(1000))), { code: "malformed" });
  const tap3 = new SftpTap(() => {});
  // a WRITE too short to hold its header
  assert.throws(() => tap3.fromClient.push(packet(6, [1, 2])), { code: "malformed" });
});

Deno.test("ScpTap follows C/D/E lines and skips file contents", () => {
  const out: Transfer[] = [];
  const tap = new ScpTap("upload", "/srv/in", (t) => out.push(t));
  const body = new Uint8Array(5000).fill(0x0a); // newlines inside data must not be taken as directives
  const stream = new Uint8Array([
    ...enc.encode("D0755 0 dir\nT1 0 2 0\nC0644 5000 a.txt\n"),
    ...body,
    0,
    ...enc.encode("E\nC0600 3 b\n"),
    1,
    2,
    3,
    0,
  ]);
  feed(tap, stream, 333);
  const single: Transfer[] = [];
  new ScpTap("upload", "/srv/f.txt", (t) => single.push(t), false).push(enc.encode("C0644 2 f\nab\0"));
  assert.deepEqual(single, [
    { protocol: "scp", op: "upload", path: "/srv/f.txt", bytes: 2, sha256: sha(enc.encode("ab")) },
  ]);
  assert.deepEqual(out, [
    { protocol: "scp", op: "upload", path: "/srv/in/dir/a.txt", bytes: 5000, sha256: sha(body) },
    { protocol: "scp", op: "upload", path: "/srv/in/b", bytes: 3, sha256: sha(new Uint8Array([1, 2, 3])) },
  ]);
  // cut off mid-file: reported at the channel's end as incomplete, without a hash
  const cut: Transfer[] = [];
  const t2 = new ScpTap("download", "", (t) => cut.push(t));
  t2.push(enc.encode("C0644 10 big\n12345"));
  assert.deepEqual(cut, []);
  t2.finish();
  assert.deepEqual(cut, [{ protocol: "scp", op: "download", path: "big", bytes: 5, incomplete: true }]);
  assert.throws(() => new ScpTap("download", "", () => {}).push(enc.encode("Zgarbage\n")), TransferTapError);
});

Deno.test("parseScpCommand() recognises remote scp sink and source", () => {
  assert.deepEqual(parseScpCommand("scp -t /tmp/x"), {
    direction: "upload",
    path: "/tmp/x",
    targetIsDir: false,
  });
  assert.deepEqual(parseScpCommand("scp -d -t /tmp/"), {
    direction: "upload",
    path: "/tmp/",
    targetIsDir: true,
  });
  assert.deepEqual(parseScpCommand("scp -r -f -- dir"), {
    direction: "download",
    path: "dir",
    targetIsDir: true,
  });
  assert.equal(parseScpCommand("ls -la"), null);
  assert.equal(parseScpCommand("scp file"), null);
});

/** A content sink that collects what it is given (the kept copy of a file). */
class Collect {
  parts: Uint8Array[] = [];
  write(b: Uint8Array): void {
    this.parts.push(b.slice());
  }
  get bytes(): Uint8Array {
    const out = new Uint8Array(this.parts.reduce((n, p) => n + p.length, 0));
    let off = 0;
    for (const p of this.parts) out.set(p, (off += p.length) - p.length);
    return out;
  }
}

Deno.test("taps hand a file's content to its sink and return the sink with the file's transfer", () => {
  // SFTP: written in order → the sink has the whole content; the emitted sink is the one opened
  const sinks: Collect[] = [];
  const got: [Transfer, unknown][] = [];
  const tap = new SftpTap((t, s) => got.push([t, s]), (t) => {
    assert.equal(t.path, "/tmp/k.bin");
    sinks.push(new Collect());
    return sinks.at(-1)!;
  });
  const handle = enc.encode("hk");
  const data = crypto.getRandomValues(new Uint8Array(50_000));
  tap.fromClient.push(packet(3, u32(1), str("/tmp/k.bin"), u32(2 | 8), u32(0)));
  tap.fromServer.push(packet(102, u32(1), str(handle)));
  feed(tap.fromClient, packet(6, u32(2), str(handle), u32(0), u32(0), str(data.subarray(0, 30_000))), 999);
  feed(tap.fromClient, packet(6, u32(3), str(handle), u32(0), u32(30_000), str(data.subarray(30_000))), 999);
  tap.fromClient.push(packet(4, u32(4), str(handle)));
  assert.equal(sinks.length, 1);
  assert.deepEqual(sinks[0].bytes, data);
  assert.equal(got[0][0].sha256, sha(data));
  assert.equal(got[0][1], sinks[0]);

  // out of order: the sink stops getting bytes and the transfer has no hash (the copy is dropped)
  const tap2Sinks: Collect[] = [];
  const got2: [Transfer, unknown][] = [];
  const tap2 = new SftpTap((t, s) => got2.push([t, s]), () => (tap2Sinks.push(new Collect()), tap2Sinks[0]));
  tap2.fromClient.push(packet(3, u32(1), str("/tmp/o"), u32(2), u32(0)));
  tap2.fromServer.push(packet(102, u32(1), str(handle)));
  tap2.fromClient.push(packet(6, u32(2), str(handle), u32(0), u32(0), str(new Uint8Array(10).fill(1))));
  tap2.fromClient.push(packet(6, u32(3), str(handle), u32(0), u32(100), str(new Uint8Array(10).fill(2))));
  tap2.fromClient.push(packet(4, u32(4), str(handle)));
  assert.deepEqual(tap2Sinks[0].bytes, new Uint8Array(10).fill(1));
  assert.equal(got2[0][0].sha256, undefined);
  assert.equal(got2[0][1], tap2Sinks[0]);

  // SCP: the sink is opened with the announced size and gets exactly the file's bytes
  let declared = -1;
  const scpSink = new Collect();
  const scpGot: [Transfer, unknown][] = [];
  const scp = new ScpTap("upload", "/tmp", (t, s) => scpGot.push([t, s]), true, (_t, size) => {
    declared = size!;
    return scpSink;
  });
  const body = enc.encode("hello scp\n");
  feed(scp, new Uint8Array([...enc.encode(`C0644 ${body.length} f.txt\n`), ...body, 0]), 3);
  assert.equal(declared, body.length);
  assert.deepEqual(scpSink.bytes, body);
  assert.deepEqual(scpGot[0][0], {
    protocol: "scp",
    op: "upload",
    path: "/tmp/f.txt",
    bytes: 10,
    sha256: sha(body),
  });
  assert.equal(scpGot[0][1], scpSink);
});
