// A small tmpfs as a full disk (root only): mount, fill up to a few bytes, unmount.
import assert from "node:assert/strict";
import { join } from "node:path";

export async function mountTmpfs(dir: string, size = "2m"): Promise<void> {
  Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const r = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", `size=${size},mode=0700`, "tmpfs", dir],
  })
    .output();
  assert.ok(r.success, new TextDecoder().decode(r.stderr));
}

export async function umount(dir: string): Promise<void> {
  await new Deno.Command("umount", { args: ["-l", dir] }).output();
}

/** Fills the file system of `dir` until at most `leave` bytes are free; returns the filler's path. */
export function fill(dir: string, leave: number): string {
  const path = join(dir, "filler");
  const f = Deno.openSync(path, { write: true, create: true });
  const chunk = new Uint8Array(4096);
  try {
    for (;;) {
      try {
        f.writeSync(chunk);
      } catch (_e) {
        break; // ENOSPC: full
      }
    }
  } finally {
    f.close();
  }
  Deno.truncateSync(path, Math.max(0, Deno.statSync(path).size - leave));
  return path;
}
