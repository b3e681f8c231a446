// The jump's own check of a typed password. One candidate per source (password_candidate.ts: never an scrypt
// per password holder on a shared source); a directory user's password is the directory's (an LDAP bind,
// never a local hash); a local one is checked against its hash, which is upgraded when its parameters are
// old. The directory down or misconfigured: fails closed.
import type { Snapshot, User } from "../../policy/mod.ts";
import { hashPassword, needsRehash, verifyPassword } from "../../policy/password.ts";
import { rehashUserPassword, userCredentials } from "../../db/users.ts";
import { ldapAuthenticate } from "../../core/ldap/client.ts";
import { passwordCandidate } from "./password_candidate.ts";
import type { Runtime } from "./runtime.ts";

export interface PasswordAttempt {
  /** the SSH user name as typed */
  username: string;
  localIp: string;
  sourceIp: string;
  /** connection reference, for log lines */
  ref: string;
}

/** The user among `candidates` whose password this is, or null. */
export async function checkJumpPassword(
  rt: Runtime,
  snap: Snapshot,
  candidates: User[],
  a: PasswordAttempt,
  password: string,
): Promise<User | null> {
  const candidate = passwordCandidate(
    snap,
    candidates.filter((c) => c.hasPassword),
    { username: a.username, localIp: a.localIp, sourceIp: a.sourceIp },
    rt.now(),
  );
  if (!candidate) return null;
  const { passwordHash, directoryDn } = await userCredentials(rt.deps.sql, candidate.id);
  if (directoryDn !== null) return await directoryPassword(rt, candidate.name, password) ? candidate : null;
  if (!(await verifyPassword(password, passwordHash))) return null;
  if (passwordHash && needsRehash(passwordHash)) void rehash(rt, a.ref, candidate.id, passwordHash, password);
  return candidate;
}

async function directoryPassword(rt: Runtime, login: string, password: string): Promise<boolean> {
  const directory = rt.deps.directory;
  if (!directory) return false;
  try {
    return (await ldapAuthenticate(directory, login, password)) !== null;
  } catch (e) {
    rt.deps.log.warn("directory bind failed", { user: login, error: (e as Error).message });
    return false;
  }
}

async function rehash(
  rt: Runtime,
  ref: string,
  userId: number,
  verified: string,
  password: string,
): Promise<void> {
  try {
    await rehashUserPassword(rt.deps.sql, userId, verified, await hashPassword(password));
  } catch (e) {
    rt.deps.log.warn("could not store the rehashed password", { ref, error: String(e) });
  }
}
