// jumphost serve: runs the appliance (app/serve.ts) with the configuration the CLI resolved.
import { parseArgs } from "./args.ts";
import type { Command } from "./command.ts";
import { serve } from "../app/serve.ts";

export const serveCommand: Command = {
  name: "serve",
  summary: "run the jump host (SSH and RDP proxies, web console, conversions)",
  usage: "jumphost serve [global options]",
  run(ctx, argv) {
    parseArgs(argv);
    return serve(ctx.config, () => ctx.reloadConfig());
  },
};
