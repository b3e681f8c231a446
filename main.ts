// jumphost: CLI entry. Parses global flags, resolves configuration, dispatches to a command. No logic here.
import { COMMANDS } from "./cli/commands.ts";
import { ConfigError, loadConfig } from "./core/config.ts";
import { createContext } from "./cli/context.ts";
import { GLOBAL_FLAGS, parseArgs, UsageError } from "./cli/args.ts";
import { stdOut } from "./cli/output.ts";
import { reportError } from "./cli/errors.ts";

export async function main(argv: string[]): Promise<number> {
  const name = argv.find((a, i) =>
    !a.startsWith("--") && !GLOBAL_FLAGS.includes(argv[i - 1]?.slice(2) ?? "")
  );
  const idx = name ? argv.indexOf(name) : -1;
  const rest = argv.slice(idx + 1);
  if (name === "help" && rest[0] && !rest[0].startsWith("-")) return main([rest[0], "--help"]);
  if (!name || name === "help" || name === "--help" || name === "-h") {
    stdOut.line(usage());
    return name ? 0 : 2;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    stdOut.error(`jumphost: unknown command "${name}" (see: jumphost help)`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    stdOut.line(`${cmd.name}: ${cmd.summary}\n\nusage: ${cmd.usage}`);
    return 0;
  }
  const globals = argv.slice(0, idx);
  let ctx;
  try {
    // global flags may also follow the command; the command's own parser accepts and ignores them
    const g = parseArgs([...globals, ...rest.filter((_a, i) => isGlobal(rest, i))]);
    const flags = g.flags as Record<string, string | string[]>;
    ctx = createContext(loadConfig(flags), stdOut, () => loadConfig(flags));
  } catch (e) {
    if (e instanceof ConfigError || e instanceof UsageError) {
      stdOut.error(`jumphost: ${e.message}`);
      return 2;
    }
    throw e;
  }
  try {
    return await cmd.run(ctx, rest);
  } catch (e) {
    return reportError(stdOut, e, cmd.usage);
  } finally {
    await ctx.close().catch((e) => stdOut.error(`jumphost: closing the database: ${(e as Error).message}`));
  }
}

/** true for argv[i] being a global flag or the value of one */
function isGlobal(argv: string[], i: number): boolean {
  const flagName = (a: string) => a.startsWith("--") ? a.slice(2).split("=")[0] : null;
  const self = flagName(argv[i]);
  if (self && GLOBAL_FLAGS.includes(self)) return true;
  const prev = i > 0 ? flagName(argv[i - 1]) : null;
  return prev !== null && GLOBAL_FLAGS.includes(prev) && !argv[i - 1].includes("=");
}

function usage(): string {
  const w = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    "jumphost — SSH/RDP jump host",
    "",
    "usage: jumphost [global options] <command> [args]",
    "",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`),
    "",
    "global options: " + GLOBAL_FLAGS.map((f) => `--${f}`).join(" "),
  ].join("\n");
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
