import type { CommandContext } from "./context.ts";

/** A command group: `jumphost <name> ...argv`. Returns the process exit code. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  /** false for commands that must not open the database through the CLI context (serve, version) */
  run(ctx: CommandContext, argv: string[]): Promise<number>;
}

/** Errors whose message is the whole story for the user: printed as one line, exit code 1. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CliError";
  }
}
