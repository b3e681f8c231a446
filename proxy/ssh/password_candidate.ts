// Which user's password to check on a shared source address. Checking every password holder there would
// run one scrypt (128 MiB, half a second) per user for each attempt; instead one candidate is picked
// first and verified once. Pure: over a policy snapshot, no I/O.
import { decide, type Snapshot, type User } from "../../policy/mod.ts";
import { chooseRoute, parseUsername, type RouteRequest } from "./identify.ts";

/**
 * The one password holder an attempt is for: the only one there is; else the user whose name is the
 * login (`alice@web1` from a shared source means jump user alice); else the only holder the policy lets
 * in with this user name now. Null when none or several fit (the attempt fails without hashing).
 */
export function passwordCandidate(
  snapshot: Snapshot,
  holders: readonly User[],
  req: Omit<RouteRequest, "userName">,
  now: Date,
): User | null {
  if (holders.length <= 1) return holders[0] ?? null;
  const login = parseUsername(req.username).login;
  const named = holders.find((u) => u.name === login);
  if (named) return named;
  const admitted = holders.filter((u) => {
    const route = chooseRoute(snapshot, { ...req, userName: u.name }, now);
    if (!route.ok) return false;
    return decide(
      snapshot,
      {
        sourceIp: req.sourceIp,
        protocol: "ssh",
        serverId: route.server.id,
        login: route.login,
      },
      now,
      { userName: u.name },
    ).allowed;
  });
  return admitted.length === 1 ? admitted[0] : null;
}
