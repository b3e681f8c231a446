// A secret given on standard input (--password-stdin): never on the command line, where `ps` shows it.
import { UsageError } from "./args.ts";

export async function readSecretStdin(flag = "--password-stdin"): Promise<string> {
  const text = new TextDecoder().decode(await new Response(Deno.stdin.readable).arrayBuffer());
  const pw = text.replace(/\r?\n$/, "");
  if (pw === "") throw new UsageError(`${flag}: no password on standard input`);
  return pw;
}
