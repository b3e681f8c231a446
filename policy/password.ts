// Password hashing with node:crypto scrypt (memory-hard). Format: scrypt$N$r$p$salt_b64$hash_b64.
import { randomBytes, scrypt as scryptCb, timingSafeEqual } from "node:crypto";

const N = 16384, R = 8, P = 1, KEYLEN = 32;

function scrypt(pw: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCb(pw, salt, KEYLEN, { N: n, r, p, maxmem: 128 * n * r * 2 }, (e, k) => e ? reject(e) : resolve(k))
  );
}

export async function hashPassword(password: string): Promise<string> {
  if (password.length === 0) throw new Error("empty password");
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, N, R, P);
  return `scrypt$${N}$${R}$${P}$${salt.toString("base64")}$${key.toString("base64")}`;
}

export async function verifyPassword(password: string, stored: string | null | undefined): Promise<boolean> {
  if (!stored) return false;
  const f = stored.split("$");
  if (f.length !== 6 || f[0] !== "scrypt") return false;
  const [n, r, p] = [Number(f[1]), Number(f[2]), Number(f[3])];
  if (![n, r, p].every(Number.isInteger) || n > 1 << 20 || r > 32 || p > 16) return false;
  const expected = Buffer.from(f[5], "base64");
  const key = await scrypt(password, Buffer.from(f[4], "base64"), n, r, p);
  return key.length === expected.length && timingSafeEqual(key, expected);
}

export function randomPassword(bytes = 15): string {
  return randomBytes(bytes).toString("base64url");
}
