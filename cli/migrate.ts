// jumphost migrate: apply pending migrations (also done at every start).
import type { Command } from "./command.ts";
import { parseArgs } from "./args.ts";
import { migrate } from "../db/migrate.ts";

export const migrateCommand: Command = {
  name: "migrate",
  summary: "apply pending database migrations",
  usage: "jumphost migrate",
  async run(ctx, argv) {
    parseArgs(argv);
    const sql = await ctx.db({ migrate: false });
    const applied = await migrate(sql);
    const rows = await sql<{ version: number; name: string }[]>`
      SELECT version, name FROM schema_migrations ORDER BY version`;
    ctx.out.line(
      `database at migration ${rows.at(-1)?.version ?? 0} (${
        rows.map((r) => `${r.version}_${r.name}`).join(", ")
      })` +
        (applied.length ? `; applied now: ${applied.join(", ")}` : ""),
    );
    return 0;
  },
};
