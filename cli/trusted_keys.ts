// The keys whose signatures `audit verify`, `recordings verify` and `sessions export` accept: this
// appliance's signing key, the configured trusted_signers file, and --allowed-keys files.
import { loadTrustedKeys, type PublicSigningKey, SigningKeyError } from "../core/signing_key.ts";
import { CliError } from "./command.ts";
import type { CommandContext } from "./context.ts";

export async function trustedKeys(ctx: CommandContext, files: string[]): Promise<PublicSigningKey[]> {
  try {
    return await loadTrustedKeys(ctx.config.dataDir, [ctx.config.trustedSigners, ...files]);
  } catch (e) {
    if (e instanceof SigningKeyError) throw new CliError(e.message);
    throw e;
  }
}
