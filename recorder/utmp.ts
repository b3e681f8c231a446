// utmp/wtmp records for proxy sessions, so `last -f`, `who` and `utmpdump` show them.
// Layout: glibc x86_64 `struct utmp` (384 bytes, little-endian; see utmp(5) and bits/utmp.h):
//   0 ut_type i16, 4 ut_pid i32, 8 ut_line[32], 40 ut_id[4], 44 ut_user[32], 76 ut_host[256],
//   332 ut_exit {i16 e_termination, i16 e_exit}, 336 ut_session i32, 340 ut_tv {i32 sec, i32 usec},
//   348 ut_addr_v6 i32[4], 364 reserved[20].
import { isIPv4, isIPv6 } from "node:net";

export const UTMP_SIZE = 384;
export const USER_PROCESS = 7;
export const DEAD_PROCESS = 8;

export class UtmpError extends Error {
  override name = "UtmpError";
  constructor(readonly code: "bad_record" | "io", message: string) {
    super(message);
  }
}

export interface UtmpRecord {
  type: number;
  pid: number;
  line: string;
  id: string;
  user: string;
  host: string;
  session: number;
  /** milliseconds since the epoch */
  timeMs: number;
  addr: string | null;
}

function putString(buf: Uint8Array, off: number, len: number, s: string): void {
  // fixed-size, NUL-padded, not necessarily NUL-terminated (as glibc writes them); cut on a byte boundary
  const bytes = new TextEncoder().encode(s).subarray(0, len);
  buf.set(bytes, off);
}

function getString(buf: Uint8Array, off: number, len: number): string {
  const slice = buf.subarray(off, off + len);
  const end = slice.indexOf(0);
  return new TextDecoder().decode(end === -1 ? slice : slice.subarray(0, end));
}

/** Pure: encodes one record. */
export function encodeUtmp(r: UtmpRecord): Uint8Array {
  const buf = new Uint8Array(UTMP_SIZE);
  const dv = new DataView(buf.buffer);
  dv.setInt16(0, r.type, true);
  dv.setInt32(4, r.pid | 0, true);
  putString(buf, 8, 32, r.line);
  putString(buf, 40, 4, r.id);
  putString(buf, 44, 32, r.user);
  putString(buf, 76, 256, r.host);
  dv.setInt32(336, r.session | 0, true);
  dv.setInt32(340, Math.floor(r.timeMs / 1000) | 0, true);
  dv.setInt32(344, Math.floor((r.timeMs % 1000) * 1000) | 0, true);
  if (r.addr && isIPv4(r.addr)) {
    r.addr.split(".").forEach((o, i) => buf[348 + i] = Number(o));
  } else if (r.addr && isIPv6(r.addr)) {
    const groups = expandIpv6(r.addr);
    groups.forEach((g, i) => {
      buf[348 + 2 * i] = g >> 8;
      buf[349 + 2 * i] = g & 0xff;
    });
  }
  return buf;
}

function expandIpv6(a: string): number[] {
  const [head, tail] = a.includes("::") ? a.split("::") : [a, null];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const parts = tail === null ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  return parts.slice(0, 8).map((p) => parseInt(p, 16) || 0);
}

/** Pure: decodes one 384-byte record. */
export function decodeUtmp(buf: Uint8Array): UtmpRecord {
  if (buf.length !== UTMP_SIZE) {
    throw new UtmpError("bad_record", `utmp record is ${buf.length} bytes, not 384`);
  }
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.length);
  const a = buf.subarray(348, 364);
  const v4 = a.subarray(4).every((b) => b === 0);
  return {
    type: dv.getInt16(0, true),
    pid: dv.getInt32(4, true),
    line: getString(buf, 8, 32),
    id: getString(buf, 40, 4),
    user: getString(buf, 44, 32),
    host: getString(buf, 76, 256),
    session: dv.getInt32(336, true),
    timeMs: dv.getInt32(340, true) * 1000 + Math.floor(dv.getInt32(344, true) / 1000),
    addr: a.every((b) => b === 0) ? null : v4 ? [...a.subarray(0, 4)].join(".") : null,
  };
}

/** Hands out ssh0…ssh99 to live sessions of this process; undefined when all are taken. */
export class LineAllocator {
  #used = new Set<number>();
  constructor(readonly prefix = "ssh", readonly max = 100) {}
  take(): string | undefined {
    for (let i = 0; i < this.max; i++) {
      if (!this.#used.has(i)) {
        this.#used.add(i);
        return `${this.prefix}${i}`;
      }
    }
    return undefined;
  }
  release(line: string): void {
    this.#used.delete(Number(line.slice(this.prefix.length)));
  }
}

export interface UtmpLogin {
  line: string;
  user: string;
  host: string;
  addr: string | null;
  session: number;
  timeMs: number;
}

/**
 * Writes login/logout records: utmp slots are updated in place (found by line), wtmp is appended.
 * Each write holds an exclusive lock on the file, as other writers (sshd, login) do too.
 */
export class UtmpWriter {
  #chain: Promise<void> = Promise.resolve();
  constructor(readonly utmpFile: string | null, readonly wtmpFile: string | null, readonly pid = Deno.pid) {}

  login(l: UtmpLogin): Promise<void> {
    return this.#serial(() => this.#write({ ...l, type: USER_PROCESS, pid: this.pid, id: idFor(l.line) }));
  }

  logout(line: string, timeMs: number): Promise<void> {
    return this.#serial(() =>
      this.#write({
        type: DEAD_PROCESS,
        pid: this.pid,
        line,
        id: idFor(line),
        user: "",
        host: "",
        addr: null,
        session: 0,
        timeMs,
      })
    );
  }

  #serial(fn: () => Promise<void>): Promise<void> {
    const next = this.#chain.then(fn);
    this.#chain = next.catch(() => {});
    return next;
  }

  async #write(r: UtmpRecord): Promise<void> {
    const rec = encodeUtmp(r);
    try {
      if (this.utmpFile) await updateSlot(this.utmpFile, r.line, rec);
      if (this.wtmpFile) await appendLocked(this.wtmpFile, rec);
    } catch (e) {
      throw new UtmpError("io", `utmp/wtmp: ${(e as Error).message}`);
    }
  }
}

/** ut_id is the last 4 characters of the line, as login(1) does. */
function idFor(line: string): string {
  return line.slice(-4);
}

async function appendLocked(path: string, rec: Uint8Array): Promise<void> {
  const f = await Deno.open(path, { append: true, create: true, mode: 0o664 });
  try {
    await f.lock(true);
    await writeAll(f, rec);
  } finally {
    f.close();
  }
}

async function updateSlot(path: string, line: string, rec: Uint8Array): Promise<void> {
  const f = await Deno.open(path, { read: true, write: true, create: true, mode: 0o664 });
  try {
    await f.lock(true);
    const size = (await f.stat()).size;
    const whole = size - (size % UTMP_SIZE);
    let slot = -1;
    const buf = new Uint8Array(UTMP_SIZE);
    for (let off = 0; off < whole; off += UTMP_SIZE) {
      await f.seek(off, Deno.SeekMode.Start);
      if (!(await readFull(f, buf))) break;
      if (getString(buf, 8, 32) === line) {
        slot = off;
        break;
      }
    }
    await f.seek(slot === -1 ? whole : slot, Deno.SeekMode.Start);
    await writeAll(f, rec);
  } finally {
    f.close();
  }
}

async function readFull(f: Deno.FsFile, buf: Uint8Array): Promise<boolean> {
  let off = 0;
  while (off < buf.length) {
    const n = await f.read(buf.subarray(off));
    if (n === null) return false;
    off += n;
  }
  return true;
}

async function writeAll(f: Deno.FsFile, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await f.write(data.subarray(off));
}
