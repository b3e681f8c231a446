// Password hashing with node:crypto scrypt (memory-hard). Format: scrypt$N$r$p$salt_b64$hash_b64.
// The cost follows OWASP's guidance (N=2^17, r=8, p=1: 128 MiB and about half a second per hash); older,
// cheaper hashes still verify and `needsRehash` says when to store a new one. At most
// MAX_CONCURRENT_HASHES run at once per isolate: a flood of attempts waits in line instead of exhausting
// memory.
import { randomBytes, scrypt as scryptCb, timingSafeEqual } from "node:crypto";

export interface ScryptCost {
  /** CPU/memory cost, a power of two */
  N: number;
  r: number;
  p: number;
}

export const DEFAULT_SCRYPT_COST: ScryptCost = { N: 1 << 17, r: 8, p: 1 };
const KEYLEN = 32;
/** hashes running at once in this isolate (each takes 128·N·r bytes: 128 MiB at the default cost) */
export const MAX_CONCURRENT_HASHES = 2;

let running = 0;
const waiting: (() => void)[] = [];

async function limited<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= MAX_CONCURRENT_HASHES) await new Promise<void>((resolve) => waiting.push(resolve));
  else running++;
  try {
    return await fn();
  } finally {
    // hand the slot to the next in line, or free it
    const next = waiting.shift();
    if (next) next();
    else running--;
  }
}

/** How many hashes wait for a slot now (for tests and diagnostics). */
export function hashesWaiting(): number {
  return waiting.length;
}

function scrypt(pw: string, salt: Buffer, c: ScryptCost): Promise<Buffer> {
  return limited(() =>
    new Promise((resolve, reject) =>
      scryptCb(
        pw,
        salt,
        KEYLEN,
        { N: c.N, r: c.r, p: c.p, maxmem: 128 * c.N * c.r * 2 },
        (e, k) => e ? reject(e) : resolve(k),
      )
    )
  );
}

export async function hashPassword(
  password: string,
  cost: ScryptCost = DEFAULT_SCRYPT_COST,
): Promise<string> {
  if (password.length === 0) throw new Error("empty password");
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, cost);
  return `scrypt$${cost.N}$${cost.r}$${cost.p}$${salt.toString("base64")}$${key.toString("base64")}`;
}

function parse(stored: string): { cost: ScryptCost; salt: string; hash: string } | null {
  const f = stored.split("$");
  if (f.length !== 6 || f[0] !== "scrypt") return null;
  const [N, r, p] = [Number(f[1]), Number(f[2]), Number(f[3])];
  if (![N, r, p].every(Number.isInteger) || N < 2 || N > 1 << 20 || r < 1 || r > 32 || p < 1 || p > 16) {
    return null;
  }
  return { cost: { N, r, p }, salt: f[4], hash: f[5] };
}

export async function verifyPassword(password: string, stored: string | null | undefined): Promise<boolean> {
  if (!stored) return false;
  const h = parse(stored);
  if (!h) return false;
  const expected = Buffer.from(h.hash, "base64");
  const key = await scrypt(password, Buffer.from(h.salt, "base64"), h.cost);
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** True when a stored hash is cheaper than `target`: store a new one at the next correct login. */
export function needsRehash(stored: string, target: ScryptCost = DEFAULT_SCRYPT_COST): boolean {
  const h = parse(stored);
  if (!h) return false;
  return h.cost.N < target.N || h.cost.r < target.r || h.cost.p < target.p;
}

export function randomPassword(bytes = 15): string {
  return randomBytes(bytes).toString("base64url");
}
