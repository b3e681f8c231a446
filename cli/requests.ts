// jumphost requests list [--pending] | show ID | approve ID --as APPROVER [--minutes N] [--logins a,b] [--note …]
//                 | deny ID --as APPROVER --reason …
// Just-in-time access requests (db/access_requests.ts). The CLI runs as root on the appliance; --as names the
// console user who decides (their role and the self-approval rule are checked as in the console).
import { int, parseArgs, positional, str, UsageError } from "./args.ts";
import type { Command } from "./command.ts";
import { json, printList } from "./output.ts";
import { cliActor } from "../db/audit_events.ts";
import {
  type AccessRequestRow,
  expireDueRequests,
  getAccessRequest,
  listAccessRequests,
} from "../db/access_requests.ts";
import { approveAccessRequest, denyAccessRequest } from "../db/access_request_decisions.ts";

const USAGE = "jumphost requests list [--pending] [--json] | requests show ID [--json] | " +
  "requests approve ID --as APPROVER [--minutes N] [--logins a,b] [--note TEXT] | " +
  "requests deny ID --as APPROVER --reason TEXT";

const idOf = (text: string) => {
  if (!/^\d{1,12}$/.test(text)) throw new UsageError(`"${text}" is not a request id`);
  return Number(text);
};

function approverOf(p: { flags: Record<string, unknown> }): string {
  const as = p.flags["as"];
  if (typeof as !== "string" || as.trim() === "") {
    throw new UsageError("--as APPROVER is required (the console user who decides)");
  }
  return as.trim();
}

/** The audit actor: who ran the command, on whose behalf. */
const actorFor = (approver: string) => `${cliActor()} as console:${approver}`;

function summary(r: AccessRequestRow): string {
  const granted = r.state === "approved"
    ? ` → ${r.granted_minutes} min as ${r.granted_logins?.join(",")} (policy ${r.policy_id})`
    : "";
  return `request ${r.id}: ${r.state}${granted}`;
}

function details(r: AccessRequestRow): string[] {
  const out = [
    `request ${r.id}: ${r.state}`,
    `user:       ${r.user_name}${r.source_ip ? ` from ${r.source_ip}` : ""} (via ${r.via})`,
    `server:     ${r.server_name}${r.server_id === null ? " (no such server: cannot be approved)" : ""} ` +
    `over ${r.protocol}`,
    `logins:     ${r.logins.join(", ")}`,
    `minutes:    ${r.minutes} (group maximum ${r.max_minutes})`,
    `reason:     ${r.reason}`,
    `approvals:  ${r.approvals.length} of ${r.approvals_needed}` +
    (r.approvers.length ? ` (named approvers: ${r.approvers.join(", ")})` : ""),
    `asked:      ${r.created_at.toISOString()}; ${r.state === "pending" ? "expires" : "was due"} ` +
    r.expires_at.toISOString(),
  ];
  for (const a of r.approvals) {
    out.push(
      `  approved by ${a.approver} at ${a.at.toISOString()}: ${a.minutes} min as ${a.logins.join(",")}` +
        (a.note ? ` — ${a.note}` : ""),
    );
  }
  if (r.decided_at) {
    out.push(
      `decided:    ${r.decided_at.toISOString()} by ${r.decided_by}${
        r.decision_note ? ` — ${r.decision_note}` : ""
      }`,
    );
  }
  if (r.policy_id !== null) {
    out.push(`policy:     ${r.policy_id} (${r.granted_minutes} min as ${r.granted_logins?.join(",")})`);
  }
  return out;
}

export const requestsCommand: Command = {
  name: "requests",
  summary: "just-in-time access requests: list, show, approve or deny",
  usage: USAGE,
  async run(ctx, argv) {
    const [sub, ...rest] = argv;
    switch (sub) {
      case "list": {
        const p = parseArgs(rest, { booleans: ["pending"], strings: ["limit"] });
        const sql = await ctx.db();
        await expireDueRequests(sql);
        const rows = await listAccessRequests(sql, {
          pending: p.flags.pending === true,
          limit: int(p, "limit", 1, 10_000),
        });
        printList(
          ctx.out,
          p.flags.json === true,
          ["id", "state", "user", "server", "logins", "minutes", "approvals", "reason", "asked"],
          rows.map((r) => [
            r.id,
            r.state,
            r.user_name,
            r.server_name,
            r.logins.join(","),
            r.minutes,
            `${r.approvals.length}/${r.approvals_needed}`,
            r.reason,
            r.created_at,
          ]),
          rows,
        );
        return 0;
      }
      case "show": {
        const p = parseArgs(rest);
        const sql = await ctx.db();
        await expireDueRequests(sql);
        const r = await getAccessRequest(sql, idOf(positional(p, 0, "ID")));
        if (p.flags.json === true) ctx.out.line(json(r));
        else for (const l of details(r)) ctx.out.line(l);
        return 0;
      }
      case "approve": {
        const p = parseArgs(rest, { strings: ["as", "minutes", "logins", "note"] });
        const id = idOf(positional(p, 0, "ID"));
        const approver = approverOf(p);
        const logins = str(p, "logins");
        const r = await approveAccessRequest(await ctx.db(), id, {
          approver,
          minutes: int(p, "minutes", 1, 10_080),
          logins: logins === undefined ? undefined : logins.split(",").map((l) => l.trim()).filter(Boolean),
          note: str(p, "note"),
        }, actorFor(approver));
        ctx.out.line(
          p.flags.json === true
            ? json(r)
            : r.state === "pending"
            ? `request ${r.id}: approval ${r.approvals.length} of ${r.approvals_needed} recorded; still pending`
            : summary(r),
        );
        return 0;
      }
      case "deny": {
        const p = parseArgs(rest, { strings: ["as", "reason"] });
        const id = idOf(positional(p, 0, "ID"));
        const approver = approverOf(p);
        const reason = str(p, "reason");
        if (reason === undefined) throw new UsageError("--reason TEXT is required");
        const r = await denyAccessRequest(await ctx.db(), id, { approver, reason }, actorFor(approver));
        ctx.out.line(p.flags.json === true ? json(r) : summary(r));
        return 0;
      }
      default:
        throw new UsageError(sub ? `unknown subcommand "requests ${sub}"` : "missing subcommand");
    }
  },
};
