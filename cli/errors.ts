// One place that turns an error into one clear line and an exit code.
import { UsageError } from "./args.ts";
import { CliError } from "./command.ts";
import { ConfigError } from "../core/config.ts";
import { DbError, describePgError } from "../db/client.ts";
import { LocalPgError } from "../db/local_pg.ts";
import { NetProbeError } from "../app/net_probe.ts";
import type { Out } from "./output.ts";

export function reportError(out: Out, e: unknown, usage: string): number {
  if (e instanceof UsageError) {
    out.error(`jumphost: ${e.message}\nusage: ${usage}`);
    return 2;
  }
  if (e instanceof ConfigError) {
    out.error(`jumphost: ${e.message}`);
    return 2;
  }
  const mapped = e instanceof CliError || e instanceof NetProbeError || e instanceof LocalPgError
    ? e
    : describePgError(e);
  if (
    mapped instanceof CliError || mapped instanceof NetProbeError || mapped instanceof DbError ||
    mapped instanceof LocalPgError
  ) {
    out.error(`jumphost: ${mapped.message}`);
    return 1;
  }
  // named policy-layer errors (PolicyInputError, PoolExhaustedError) carry a user-facing message too
  if (mapped instanceof Error && /Error$/.test(mapped.name) && mapped.name !== "Error" && "code" in mapped) {
    out.error(`jumphost: ${mapped.message}`);
    return 1;
  }
  out.error(`jumphost: internal error: ${(mapped as Error)?.stack ?? String(mapped)}`);
  return 1;
}
