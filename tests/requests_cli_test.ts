// End-to-end: `jumphost requests …` and `jumphost group edit --approvals/--max-request-minutes/--approvers`
// against a real PostgreSQL (requests made by db/access_requests.ts, as the SSH proxy makes them).
import assert from "node:assert/strict";
import { createTestDb } from "./helpers/test_db.ts";
import { cliFor } from "./helpers/cli.ts";
import { createConsoleUser } from "../db/console_users.ts";
import { createAccessRequest } from "../db/access_requests.ts";

Deno.test("CLI: group request rules, requests list/show/approve/deny, refusals are clear", async () => {
  const db = await createTestDb();
  const cli = cliFor(db.url);
  try {
    await cli.ok(["user", "add", "alice", "--source-ip", "127.0.0.10"]);
    await cli.ok(["server", "add", "web1", "127.0.0.1"]);
    await cli.ok(["group", "add", "prod"]);
    await cli.ok(["group", "member", "add", "prod", "web1"]);
    for (
      const [name, role] of [["bob", "admin"], ["alice", "admin"], ["olga", "operator"], ["carl", "auditor"]]
    ) {
      await createConsoleUser(db.sql, { name, role: role as "admin", passwordHash: "x" }, { actor: "test" });
    }
    await cli.ok([
      "group",
      "edit",
      "prod",
      "--approvals",
      "1",
      "--max-request-minutes",
      "45",
      "--approvers",
      "carl",
    ]);
    assert.match(await cli.ok(["group", "show", "prod"]), /1 approval\(s\), at most 45 min, approvers: carl/);
    const bad = await cli.run(["group", "edit", "prod", "--approvers", "nobody"]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /console user "nobody" not found/);
    const badMax = await cli.run(["group", "edit", "prod", "--max-request-minutes", "0"]);
    assert.notEqual(badMax.code, 0);
    assert.match(badMax.stderr, /--max-request-minutes must be an integer 1-10080/);

    const [{ id: aliceId }] = await db.sql<{ id: number }[]>`SELECT id FROM users WHERE name = 'alice'`;
    const ask = (minutes: number) =>
      createAccessRequest(db.sql, {
        userId: aliceId,
        userName: "alice",
        serverName: "web1",
        protocol: "ssh",
        logins: ["root", "deploy"],
        minutes,
        reason: "restart nginx",
        sourceIp: "127.0.0.10",
        via: "ssh_exec",
        waitMinutes: 10,
      });
    const r1 = await ask(60);
    const r2 = await ask(30);

    const listed = await cli.json<{ id: number; state: string }[]>(["requests", "list", "--pending"]);
    assert.deepEqual(listed.map((r) => r.id), [r2.id, r1.id]);
    const shown = await cli.ok(["requests", "show", String(r1.id)]);
    assert.match(shown, /user: +alice from 127\.0\.0\.10/);
    assert.match(shown, /minutes: +60 \(group maximum 45\)/);
    assert.match(shown, /named approvers: carl/);

    // alice approving alice's request; an operator not named; lengthening; --as missing
    const self = await cli.run(["requests", "approve", String(r1.id), "--as", "alice"]);
    assert.equal(self.code, 1);
    assert.match(self.stderr, /nobody may decide their own request/);
    const op = await cli.run(["requests", "approve", String(r1.id), "--as", "olga"]);
    assert.match(op.stderr, /only admins and the named approvers \(carl\)/);
    const longer = await cli.run(["requests", "approve", String(r1.id), "--as", "bob", "--minutes", "50"]);
    assert.match(longer.stderr, /at most 45 minutes \(the group maximum\)/);
    const noAs = await cli.run(["requests", "approve", String(r1.id)]);
    assert.notEqual(noAs.code, 0);
    assert.match(noAs.stderr, /--as APPROVER is required/);

    // the named auditor approves, shortened to root for 20 minutes: a policy exists
    const ok = await cli.ok([
      "requests",
      "approve",
      String(r1.id),
      "--as",
      "carl",
      "--minutes",
      "20",
      "--logins",
      "root",
      "--note",
      "go",
    ]);
    assert.match(ok, new RegExp(`request ${r1.id}: approved → 20 min as root \\(policy \\d+\\)`));
    const policies = await cli.json<
      { subject: string; scope: string; logins: string[]; created_by: string }[]
    >(
      ["policy", "list"],
    );
    assert.deepEqual(policies.map((p) => [p.subject, p.scope, p.logins, p.created_by]), [[
      "alice",
      "web1",
      ["root"],
      `request:${r1.id}`,
    ]]);
    const again = await cli.run(["requests", "approve", String(r1.id), "--as", "bob"]);
    assert.match(again.stderr, /the request is approved/);

    // deny needs a reason
    const noReason = await cli.run(["requests", "deny", String(r2.id), "--as", "bob"]);
    assert.match(noReason.stderr, /--reason TEXT is required/);
    assert.match(
      await cli.ok(["requests", "deny", String(r2.id), "--as", "bob", "--reason", "not during the freeze"]),
      new RegExp(`request ${r2.id}: denied`),
    );
    assert.match(
      await cli.ok(["requests", "show", String(r2.id)]),
      /decided: .* by bob — not during the freeze/,
    );
    const missing = await cli.run(["requests", "show", "999"]);
    assert.match(missing.stderr, /request "999" not found/);
    const audit = await cli.json<{ action: string; actor: string; success: boolean }[]>(
      ["audit", "list", "--action", "request.", "--limit", "50"],
    );
    const actions = audit.map((a) => a.action);
    for (const a of ["request.created", "request.approved", "request.denied", "request.refused"]) {
      assert.ok(actions.includes(a), a);
    }
    assert.match(audit.find((a) => a.action === "request.approved")!.actor, /^cli:.* as console:carl$/);
  } finally {
    await db.close();
  }
});
