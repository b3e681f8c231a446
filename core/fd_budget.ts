// How many connections a listener may hold before the process runs out of file descriptors.
//
// Why: when accept() fails with EMFILE, Deno's node:net server stops accepting for good (measured on
// Deno 2.9.6: after a flood past `ulimit -n` was gone, a newcomer was never accepted), so a connection
// flood would lock everyone out until a restart. A listener capped by `maxConnections` closes the excess at
// once instead; the reserve keeps room for what it accepts in a burst (up to the listen backlog) and for
// sessions' other descriptors (the backend leg, recordings, the database).

/** Caps `server` for this process's limit (no cap where the limit is unknown or unlimited). */
export function capConnections(server: { maxConnections: number }): void {
  const cap = listenerConnectionCap(openFileLimit());
  if (cap !== null) server.maxConnections = cap;
}

/** The soft "Max open files" limit of this process, or null where /proc is not readable. */
export function openFileLimit(limits = "/proc/self/limits"): number | null {
  try {
    return parseOpenFileLimit(Deno.readTextFileSync(limits));
  } catch (_e) {
    return null;
  }
}

export function parseOpenFileLimit(text: string): number | null {
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(text);
  if (!m || m[1] === "unlimited") return null;
  return Number(m[1]);
}

/**
 * The connection cap for one listener: a session holds two sockets (client and backend), so half of what is
 * left after a reserve of 1,024 + 10% (the backlog of a burst, recordings, the database). Null: no cap.
 */
export function listenerConnectionCap(limit: number | null): number | null {
  if (limit === null) return null;
  const reserve = 1024 + Math.floor(limit / 10);
  return Math.max(16, Math.floor((limit - reserve) / 2));
}
