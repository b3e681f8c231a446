// Errors for test peers (sshd, xrdp, chansrv, Xvfb, freerdp-shadow, Chromium) that cannot start: they name
// the peer, what was expected of it and the end of its log, so the failing test says what is missing
// instead of failing later inside an unrelated assertion.

export class PeerStartError extends Error {
  override name = "PeerStartError";
}

const INSTALL_HINT = "bash scripts/deps.sh test installs the test peers";

/** The last `n` non-empty lines of a text (a log). */
export function tail(text: string, n = 15): string {
  return text.split("\n").filter((l) => l.trim() !== "").slice(-n).join("\n");
}

/** The last lines of a log file, or why it could not be read. */
export async function tailFile(path: string, n = 15): Promise<string> {
  try {
    const t = tail(await Deno.readTextFile(path), n);
    return t === "" ? "(empty)" : t;
  } catch (e) {
    return `(unreadable: ${(e as Error).message})`;
  }
}

/** "<peer> did not start: <what> (see <log>: <last lines>)" for each log given. */
export async function peerError(peer: string, what: string, logs: string[] = []): Promise<PeerStartError> {
  const parts = await Promise.all(logs.map(async (p) => `--- ${p}:\n${await tailFile(p)}`));
  return new PeerStartError(`${peer} did not start: ${what}${parts.length ? `\n${parts.join("\n")}` : ""}`);
}

/** Deno.Command(...).spawn(), with a missing program reported as a missing test peer. */
export function spawnPeer(cmd: string, opts: Deno.CommandOptions): Deno.ChildProcess {
  try {
    return new Deno.Command(cmd, opts).spawn();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new PeerStartError(`${cmd} is not installed (${INSTALL_HINT})`);
    }
    throw e;
  }
}

/** Whether the program exists (for a clear error before starting a peer). */
export function requireProgram(path: string, pkg: string): void {
  try {
    Deno.statSync(path);
  } catch (_e) {
    throw new PeerStartError(`${path} is missing: Debian package ${pkg} (${INSTALL_HINT})`);
  }
}
