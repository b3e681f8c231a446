// jumphost webhook add URL --events E[,E…] --secret-stdin | list | remove ID | log [ID] [--limit N]
// Endpoints that get a signed JSON POST for audit events (core/webhook_format.ts); serve delivers them.
import { int, parseArgs, positional, str, UsageError } from "./args.ts";
import type { Command } from "./command.ts";
import { json, printList } from "./output.ts";
import { readSecretStdin } from "./stdin_secret.ts";
import { cliActor } from "../db/audit_events.ts";
import { addWebhook, deliveryLog, listWebhooks, redactUrl, removeWebhook } from "../db/webhooks.ts";

const USAGE = "jumphost webhook add URL --events E[,E…] --secret-stdin | webhook list [--json] | " +
  "webhook remove ID | webhook log [ID] [--limit N] [--json]";

const idOf = (text: string) => {
  if (!/^\d{1,12}$/.test(text)) throw new UsageError(`"${text}" is not a webhook id`);
  return Number(text);
};

export const webhookCommand: Command = {
  name: "webhook",
  summary: "outbound webhooks: signed JSON POSTs for audit events (e.g. session.kill, system.)",
  usage: USAGE,
  async run(ctx, argv) {
    const [sub, ...rest] = argv;
    switch (sub) {
      case "add": {
        const p = parseArgs(rest, { strings: ["events"], booleans: ["secret-stdin"] });
        const url = positional(p, 0, "URL");
        const events = str(p, "events");
        if (!events) throw new UsageError("--events is required (audit actions or prefixes ending in a dot)");
        if (p.flags["secret-stdin"] !== true) throw new UsageError("--secret-stdin is required");
        const secret = await readSecretStdin("--secret-stdin");
        const w = await addWebhook(await ctx.db(), await ctx.secretKey(), {
          url,
          events: events.split(","),
          secret,
        }, cliActor());
        ctx.out.line(`webhook ${w.id}: ${redactUrl(w.url)} for ${w.events.join(", ")}`);
        return 0;
      }
      case "list": {
        const p = parseArgs(rest);
        const rows = await listWebhooks(await ctx.db());
        printList(
          ctx.out,
          p.flags.json === true,
          ["id", "url", "events", "active", "created_by", "created_at"],
          rows.map((r) => [r.id, redactUrl(r.url), r.events.join(","), r.active, r.created_by, r.created_at]),
          rows.map((r) => ({ ...r, url: redactUrl(r.url) })),
        );
        return 0;
      }
      case "remove": {
        const p = parseArgs(rest);
        const id = idOf(positional(p, 0, "ID"));
        await removeWebhook(await ctx.db(), id, cliActor());
        ctx.out.line(`webhook ${id} removed`);
        return 0;
      }
      case "log": {
        const p = parseArgs(rest, { strings: ["limit"] });
        const id = p.positionals[0] !== undefined ? idOf(p.positionals[0]) : undefined;
        const rows = await deliveryLog(await ctx.db(), id, int(p, "limit", 1, 1000) ?? 100);
        if (p.flags.json === true) {
          ctx.out.line(json(rows));
          return 0;
        }
        printList(
          ctx.out,
          false,
          ["id", "webhook", "event", "state", "attempts", "status", "error", "ms", "created"],
          rows.map((r) => [
            r.id,
            r.webhook_id,
            r.event,
            r.delivered_at ? "delivered" : r.failed_at ? "gave up" : "pending",
            r.attempts,
            r.last_status,
            r.last_error,
            r.last_ms,
            r.created_at,
          ]),
          rows,
        );
        return 0;
      }
      default:
        throw new UsageError(sub ? `unknown subcommand "webhook ${sub}"` : "missing subcommand");
    }
  },
};
