import assert from "node:assert/strict";
import net from "node:net";
import { Buffer } from "node:buffer";
import { batchWrites, flushBatchedWrites } from "./write_batching.ts";

/** A connected loopback pair; `received` collects what the server side reads, one entry per read. */
async function pair(): Promise<
  { client: net.Socket; received: Buffer[]; ended: Promise<void>; close(): void }
> {
  const received: Buffer[] = [];
  let serverSock: net.Socket | null = null;
  let endedResolve: () => void;
  const ended = new Promise<void>((r) => endedResolve = r);
  const server = net.createServer((s) => {
    serverSock = s;
    s.on("data", (d: Buffer) => received.push(d));
    s.on("end", () => {
      s.end();
      endedResolve();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as net.AddressInfo).port;
  const client = net.connect({ host: "127.0.0.1", port });
  client.setNoDelay(true);
  await new Promise<void>((r) => client.once("connect", () => r()));
  return {
    client,
    received,
    ended,
    close: () => {
      client.destroy();
      serverSock?.destroy();
      server.close();
    },
  };
}

Deno.test("batchWrites() sends the writes of one task as one write, in order", async () => {
  const p = await pair();
  try {
    batchWrites(p.client);
    const pieces = Array.from({ length: 50 }, (_, i) => Buffer.from(`piece-${i};`));
    const results = pieces.map((b) => p.client.write(b));
    assert.ok(results.every((r) => r === true));
    // corked until the task ends: nothing has been handed to the kernel yet
    assert.equal(p.client.writableCorked, 1);
    await new Promise((r) => setTimeout(r, 0));
    assert.equal(p.client.writableCorked, 0);
    // a write in a later task still goes out
    p.client.write(Buffer.from("later;"));
    p.client.end();
    await p.ended;
    const all = Buffer.concat(p.received).toString();
    assert.equal(all, pieces.map((b) => b.toString()).join("") + "later;");
    // the 50 pieces of the first task arrive together (loopback delivers one writev in one read)
    assert.ok(p.received[0].toString().startsWith("piece-0;piece-1;"), p.received[0].toString());
    assert.ok(p.received[0].length >= pieces.reduce((n, b) => n + b.length, 0));
  } finally {
    p.close();
  }
});

Deno.test("batchWrites() delivers writes made right before end() in the same task", async () => {
  const p = await pair();
  try {
    batchWrites(p.client);
    p.client.write(Buffer.from("last words"));
    p.client.end();
    await p.ended;
    assert.equal(Buffer.concat(p.received).toString(), "last words");
  } finally {
    p.close();
  }
});

Deno.test("flushBatchedWrites() sends what this task wrote so far at once, later writes batch again", async () => {
  const p = await pair();
  try {
    batchWrites(p.client);
    p.client.write(Buffer.from("key;"));
    assert.equal(p.client.writableCorked, 1);
    flushBatchedWrites();
    assert.equal(p.client.writableCorked, 0);
    // the rest of the task batches again and still goes out at its end, in order
    p.client.write(Buffer.from("a;"));
    p.client.write(Buffer.from("b;"));
    assert.equal(p.client.writableCorked, 1);
    await new Promise((r) => setTimeout(r, 0));
    assert.equal(p.client.writableCorked, 0);
    p.client.end();
    await p.ended;
    assert.equal(Buffer.concat(p.received).toString(), "key;a;b;");
  } finally {
    p.close();
  }
});
