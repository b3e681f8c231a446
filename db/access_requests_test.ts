// Access requests against a real PostgreSQL: created (an unknown server the same way), N-of-M approval creating
// a policy linked to the request, shortening, refusals audited, denial, expiry, cancel, group rules.
import assert from "node:assert/strict";
import { createTestDb } from "../tests/helpers/test_db.ts";
import { createUser } from "./users.ts";
import { createServer } from "./servers.ts";
import { createGroup, setMembership } from "./groups.ts";
import { createConsoleUser } from "./console_users.ts";
import { listAudit } from "./audit.ts";
import { getPolicy } from "./policies.ts";
import {
  countPendingRequests,
  createAccessRequest,
  expireDueRequests,
  listAccessRequests,
  MAX_PENDING_PER_USER,
  type RequestEventKind,
} from "./access_requests.ts";
import { approveAccessRequest, cancelAccessRequest, denyAccessRequest } from "./access_request_decisions.ts";
import { setRequestRules } from "./request_rules.ts";

Deno.test("access requests: create, N-of-M approval → a linked policy, refusals, deny, expire, cancel", async () => {
  const db = await createTestDb();
  try {
    const sql = db.sql;
    const alice = await createUser(sql, { name: "alice" }, "test");
    await createServer(sql, { name: "web1", address: "127.0.0.1" }, "test", null);
    await createGroup(sql, "server", { name: "prod" }, "test");
    await setMembership(sql, "server", "prod", ["web1"], true, "test");
    for (
      const [name, role] of [["bob", "admin"], ["carol", "operator"], ["alice", "admin"], ["dave", "auditor"]]
    ) {
      await createConsoleUser(sql, { name, role: role as "admin", passwordHash: "x" }, { actor: "test" });
    }
    await setRequestRules(sql, "prod", { approvals: 2, maxMinutes: 30 }, "test");
    const heard: [RequestEventKind, number][] = [];
    const notify = (k: RequestEventKind, r: { id: number }) => heard.push([k, r.id]);
    const ask = (over: Partial<Parameters<typeof createAccessRequest>[1]> = {}) =>
      createAccessRequest(sql, {
        userId: alice.id,
        userName: "alice",
        serverName: "web1",
        protocol: "ssh",
        logins: ["root", "deploy"],
        minutes: 60,
        reason: "disk full on /var",
        sourceIp: "127.0.0.9",
        via: "ssh_exec",
        waitMinutes: 10,
        ...over,
      }, notify);

    const r = await ask();
    assert.equal(r.state, "pending");
    assert.equal(r.approvals_needed, 2);
    assert.equal(r.max_minutes, 30);
    assert.equal(await countPendingRequests(sql), 1);

    // refusals: self (console alice = jump alice), an auditor, lengthening; each audited
    await assert.rejects(
      approveAccessRequest(sql, r.id, { approver: "alice" }, "console:alice"),
      /own request/,
    );
    await assert.rejects(approveAccessRequest(sql, r.id, { approver: "dave" }, "console:dave"), /admins/);
    await assert.rejects(
      approveAccessRequest(sql, r.id, { approver: "bob", minutes: 31 }, "console:bob"),
      /at most 30 minutes \(the group maximum\)/,
    );
    const refusals = await listAudit(sql, { action: "request.refused" });
    assert.equal(refusals.length, 3);
    assert.equal(refusals.every((a) => !a.success), true);

    // first of two approvals: counted, still pending
    const one = await approveAccessRequest(
      sql,
      r.id,
      { approver: "bob", minutes: 20, note: "ok" },
      "console:bob",
      notify,
    );
    assert.equal(one.state, "pending");
    assert.equal(one.approvals.length, 1);
    await assert.rejects(
      approveAccessRequest(sql, r.id, { approver: "bob" }, "console:bob"),
      /already approved/,
    );
    // second: approved, shortened logins; the policy is the user's, on web1, ssh, 20 minutes, linked
    const done = await approveAccessRequest(
      sql,
      r.id,
      { approver: "carol", logins: ["root"] },
      "console:carol",
      notify,
    );
    assert.equal(done.state, "approved");
    assert.equal(done.granted_minutes, 20);
    assert.deepEqual(done.granted_logins, ["root"]);
    const p = await getPolicy(sql, done.policy_id!);
    assert.equal(p.subject, "alice");
    assert.equal(p.scope, "web1");
    assert.deepEqual(p.protocols, ["ssh"]);
    assert.deepEqual(p.logins, ["root"]);
    assert.equal(Math.round((p.valid_until.getTime() - p.valid_from.getTime()) / 60_000), 20);
    const [{ access_request_id }] = await sql`SELECT access_request_id FROM policies WHERE id = ${p.id}`;
    assert.equal(Number(access_request_id), r.id);
    await assert.rejects(approveAccessRequest(sql, r.id, { approver: "dave" }, "x"), /approved|admins/);

    // an unknown server: the same answer shape, never approvable, audited as unknown
    const ghost = await ask({ serverName: "nosuch" });
    assert.equal(ghost.state, "pending");
    assert.equal(ghost.server_id, null);
    const created = await listAudit(sql, { action: "request.created" });
    assert.equal(created[0].details.server_known, false);
    await assert.rejects(approveAccessRequest(sql, ghost.id, { approver: "bob" }, "b"), /no existing server/);

    // deny with a reason (self-denial refused too)
    await assert.rejects(denyAccessRequest(sql, ghost.id, { approver: "alice", reason: "nope" }, "a"), /own/);
    await assert.rejects(denyAccessRequest(sql, ghost.id, { approver: "bob", reason: "" }, "b"), /3 to 500/);
    const denied = await denyAccessRequest(
      sql,
      ghost.id,
      { approver: "bob", reason: "not on call" },
      "b",
      notify,
    );
    assert.equal(denied.state, "denied");
    assert.equal(denied.decision_note, "not on call");

    // cancel and expire
    const c = await ask();
    assert.equal((await cancelAccessRequest(sql, c.id, "client disconnected", notify))?.state, "cancelled");
    assert.equal(await cancelAccessRequest(sql, c.id, "again"), null);
    const e = await ask();
    await sql`UPDATE access_requests SET created_at = now() - interval '1 hour', expires_at = now() - interval '1 s'
              WHERE id = ${e.id}`;
    const expired = await expireDueRequests(sql, notify);
    assert.deepEqual(expired.map((x) => x.id), [e.id]);
    await assert.rejects(approveAccessRequest(sql, e.id, { approver: "bob" }, "b"), /expired/);

    // bad input
    await assert.rejects(ask({ minutes: 0 }), /minutes/);
    await assert.rejects(ask({ reason: "x" }), /3 to 500/);
    await assert.rejects(ask({ logins: ["bad login"] }), /not valid/);
    await assert.rejects(ask({ serverName: "../etc" }), /server name/);
    // a flood of requests stops at the per-user cap
    for (let i = 0; i < MAX_PENDING_PER_USER; i++) await ask();
    await assert.rejects(ask(), /pending requests/);
    assert.equal((await listAccessRequests(sql, { pending: true })).length, MAX_PENDING_PER_USER);

    assert.deepEqual(heard.slice(0, 4).map((h) => h[0]), ["created", "approval", "approved", "created"]);
    assert.ok(heard.some((h) => h[0] === "denied") && heard.some((h) => h[0] === "expired"));
    assert.ok(heard.some((h) => h[0] === "cancelled"));
    for (
      const action of ["request.approval", "request.approved", "request.denied", "request.expired"] as const
    ) {
      assert.ok((await listAudit(sql, { action })).length >= 1, action);
    }
    await assert.rejects(setRequestRules(sql, "prod", { approvers: ["nobody"] }, "t"), /not found/);
    await assert.rejects(setRequestRules(sql, "prod", { maxMinutes: 0 }, "t"), /1 to 10080/);
  } finally {
    await db.close();
  }
});
