// /audit: the audit log with filters and keyset pages; CSV and JSON export of the same filter.
import { Hono } from "hono";
import type { Context } from "hono";
import { type AuditFilter, listAudit } from "../../db/audit.ts";
import { AUDIT_ACTIONS } from "../../db/audit_events.ts";
import { consoleSessionLive } from "../../db/console_sessions.ts";
import { normalizeCidr, PolicyInputError } from "../../policy/mod.ts";
import type { AppEnv } from "../deps.ts";
import { csvRow } from "../csv.ts";
import { reader, withQuery } from "../query.ts";
import { page } from "../render.tsx";
import { AuditFilters, AuditTable } from "../views/audit_parts.tsx";
import { ChainStatus } from "../views/tamper_parts.tsx";
import { createTamperState } from "../tamper_state.ts";
import { need, type RouteCtx } from "./ctx.ts";

const PAGE = 100;
const EXPORT_MAX = 100_000;
const EXPORT_BATCH = 2_000;

export const ACTION_PREFIXES = [...new Set(AUDIT_ACTIONS.map((a) => a.split(".")[0] + "."))];

function parseFilter(c: Context<AppEnv>) {
  const r = reader(c.req.query());
  const f: AuditFilter = {
    actor: r.str("actor", 100),
    user: r.str("user", 100),
    action: r.oneOf("action", [...AUDIT_ACTIONS, ...ACTION_PREFIXES]),
    since: r.date("from"),
    until: r.date("to", true),
    beforeId: r.id("before"),
  };
  const success = r.oneOf("success", ["yes", "no"] as const);
  if (success) f.success = success === "yes";
  const ip = r.str("ip", 64);
  if (ip) {
    try {
      f.sourceIp = normalizeCidr(ip, { strict: false });
    } catch (e) {
      if (!(e instanceof PolicyInputError)) throw e;
      r.errors.ip = "not an IP address or CIDR";
    }
  }
  return { r, f, bad: Object.keys(r.errors).length > 0 };
}

export function auditRoutes(ctx: RouteCtx): Hono<AppEnv> {
  const { deps } = ctx;
  const app = new Hono<AppEnv>();
  app.use("*", need("audit"));
  const tamper = createTamperState(deps.sql, deps.dataDir, deps.trustedSigners ?? null);

  app.get("/", async (c) => {
    const { r, f, bad } = parseFilter(c);
    const rows = bad ? [] : await listAudit(deps.sql, { ...f, limit: PAGE + 1 });
    const chain = await tamper.chain(ctx.now());
    const more = rows.length > PAGE;
    const shown = rows.slice(0, PAGE);
    const base = { ...r.values };
    delete base.before;
    return page(
      c,
      "Audit",
      <>
        <h1>Audit log</h1>
        <ChainStatus state={chain} />
        <AuditFilters values={r.values} errors={r.errors} prefixes={ACTION_PREFIXES} />
        <div class="actions">
          <a class="button secondary" id="export-csv" href={withQuery("/audit/export.csv", base, {})}>
            Export CSV
          </a>
          <a class="button secondary" id="export-json" href={withQuery("/audit/export.json", base, {})}>
            Export JSON
          </a>
        </div>
        <AuditTable rows={shown} />
        <div class="pager">
          {f.beforeId !== undefined ? <a href={withQuery("/audit", base, {})}>« Newest</a> : null}
          {more
            ? (
              <a
                id="next-page"
                href={withQuery("/audit", base, { before: String(shown[shown.length - 1].id) })}
              >
                Older »
              </a>
            )
            : null}
        </div>
      </>,
      { status: bad ? 400 : 200 },
    );
  });

  const exportAudit = (c: Context<AppEnv>, json: boolean) => {
    const { f, r, bad } = parseFilter(c);
    if (bad) return c.json({ errors: r.errors }, 400);
    const enc = new TextEncoder();
    const session = c.get("session");
    let checkedAt = Date.now();
    let cursor = f.beforeId;
    let sent = 0;
    let first = true;
    const body = new ReadableStream<Uint8Array>({
      async pull(ctrl) {
        // a long export stops, visibly incomplete, once the console session that asked for it has ended
        if (Date.now() - checkedAt >= ctx.limits.recheckMs) {
          checkedAt = Date.now();
          if (!(await consoleSessionLive(deps.sql, session.tokenHash, ctx.now(), ctx.limits))) {
            ctrl.error(new Error("the console session ended during the export"));
            return;
          }
        }
        const rows = sent >= EXPORT_MAX ? [] : await listAudit(deps.sql, {
          ...f,
          beforeId: cursor,
          limit: Math.min(EXPORT_BATCH, EXPORT_MAX - sent),
        });
        let chunk = "";
        if (first) {
          chunk += json
            ? "["
            : csvRow(["id", "at", "actor", "action", "target", "source_ip", "success", "details", "node_id"]);
        }
        for (const a of rows) {
          if (json) chunk += (first ? "\n" : ",\n") + JSON.stringify(a);
          else {chunk += csvRow([
              a.id,
              a.at,
              a.actor,
              a.action,
              a.target,
              a.source_ip,
              a.success,
              a.details,
              a.node_id,
            ]);}
          first = false;
        }
        first = false;
        sent += rows.length;
        if (rows.length > 0) cursor = rows[rows.length - 1].id;
        if (rows.length < EXPORT_BATCH || sent >= EXPORT_MAX) {
          if (json) chunk += "\n]\n";
          ctrl.enqueue(enc.encode(chunk));
          ctrl.close();
          return;
        }
        ctrl.enqueue(enc.encode(chunk));
      },
    });
    const stamp = new Date().toISOString().slice(0, 19).replace(/[-:]/g, "");
    c.header("Content-Type", json ? "application/json; charset=utf-8" : "text/csv; charset=utf-8");
    c.header("Content-Disposition", `attachment; filename="audit-${stamp}.${json ? "json" : "csv"}"`);
    c.header("Cache-Control", "no-store");
    return c.body(body);
  };
  app.get("/export.csv", (c) => exportAudit(c, false));
  app.get("/export.json", (c) => exportAudit(c, true));
  return app;
}
