// The decision `jumphost access check` and the console's "explain access" both run: the same snapshot and
// the same decide() the proxies use.
import type { Sql } from "./client.ts";
import { loadSnapshot } from "./snapshot_load.ts";
import { type AccessRequest, explainDecision, type Explanation } from "../policy/mod.ts";

export async function explainAccess(
  sql: Sql,
  request: AccessRequest,
  now: Date,
  opts: { userName?: string } = {},
): Promise<Explanation> {
  return explainDecision(await loadSnapshot(sql), request, now, opts);
}
