// The keys whose signatures `audit verify`, `recordings verify` and `sessions export` accept: this
// appliance's signing key, plus the OpenSSH or PEM public keys in --allowed-keys files (other nodes
// sharing the database).
import { loadSigningKey, parsePublicSigningKey, type PublicSigningKey } from "../core/signing_key.ts";
import { CliError } from "./command.ts";
import type { CommandContext } from "./context.ts";

export async function trustedKeys(ctx: CommandContext, files: string[]): Promise<PublicSigningKey[]> {
  const keys = [(await loadSigningKey(ctx.config.dataDir)).publicKey];
  for (const f of files) {
    let text: string;
    try {
      text = await Deno.readTextFile(f);
    } catch (e) {
      throw new CliError(`--allowed-keys ${f}: ${(e as Error).message}`);
    }
    const blocks = text.includes("-----BEGIN PUBLIC KEY-----")
      ? text.match(/-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/g) ?? []
      : text.split("\n").map((l) => l.replace(/^[^\s]+\s+(?=ssh-ed25519\s)/, "").trim())
        .filter((l) => l && !l.startsWith("#"));
    for (const b of blocks) {
      try {
        keys.push(parsePublicSigningKey(b));
      } catch (e) {
        throw new CliError(`--allowed-keys ${f}: ${(e as Error).message}`);
      }
    }
  }
  return keys;
}
