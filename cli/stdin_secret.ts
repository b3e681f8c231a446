// A secret given on standard input (--password-stdin): never on the command line, where `ps` shows it.
import { UsageError } from "./args.ts";

let consumed = false;

export async function readSecretStdin(flag = "--password-stdin"): Promise<string> {
  // standard input can be read once per process: a second reader gets a clear refusal, not a stream error
  if (consumed) throw new UsageError(`${flag}: standard input was already read`);
  consumed = true;
  const text = new TextDecoder().decode(await new Response(Deno.stdin.readable).arrayBuffer());
  const pw = text.replace(/\r?\n$/, "");
  if (pw === "") throw new UsageError(`${flag}: no password on standard input`);
  return pw;
}
