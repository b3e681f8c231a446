import assert from "node:assert/strict";
import {
  approve,
  checkReason,
  clampMinutes,
  mayDecide,
  parseMinutes,
  parsePromptAnswer,
  type PendingRequest,
  RequestInputError,
  rulesOf,
} from "./access_request.ts";

Deno.test("parseMinutes: minutes, m, h, h+m; refuses zero, junk, more than a week", () => {
  for (
    const [t, m] of [["60", 60], [" 90m", 90], ["90 min", 90], ["2h", 120], ["1h30m", 90], ["1h 30m", 90]]
  ) {
    assert.equal(parseMinutes(t as string), m, String(t));
  }
  for (const bad of ["", "0", "-5", "abc", "1.5", "10081", "2d", "h", "60s", "1e3"]) {
    assert.throws(
      () => parseMinutes(bad),
      (e) => e instanceof RequestInputError && e.code === "minutes",
      bad,
    );
  }
});

Deno.test("checkReason: trimmed, 3-500 printable characters", () => {
  assert.equal(checkReason("  restart nginx "), "restart nginx");
  assert.throws(() => checkReason("ok"), /3 to 500/);
  assert.throws(() => checkReason("x".repeat(501)), /3 to 500/);
  assert.throws(() => checkReason("line\nbreak"), /control characters/);
  assert.throws(() => checkReason("esc\x1b[31m"), /control characters/);
});

Deno.test("parsePromptAnswer: declined, comma or space separated, invalid with a clear message", () => {
  assert.deepEqual(parsePromptAnswer(""), { kind: "declined" });
  assert.deepEqual(parsePromptAnswer(" no "), { kind: "declined" });
  assert.deepEqual(parsePromptAnswer("N"), { kind: "declined" });
  assert.deepEqual(parsePromptAnswer("60, restart nginx"), {
    kind: "request",
    minutes: 60,
    reason: "restart nginx",
  });
  assert.deepEqual(parsePromptAnswer("2h disk full, /var"), {
    kind: "request",
    minutes: 120,
    reason: "disk full, /var",
  });
  assert.deepEqual(parsePromptAnswer("1h 30m, a, b"), { kind: "request", minutes: 90, reason: "a, b" });
  const bad = (t: string, re: RegExp) => {
    const a = parsePromptAnswer(t);
    assert.equal(a.kind, "invalid", t);
    assert.match((a as { message: string }).message, re, t);
  };
  bad("60", /minutes and a reason/);
  bad("soon, please", /not a duration/);
  bad("0, x y z", /not a duration/);
  bad("60, ab", /3 to 500/);
  bad("99999 reason here", /not a duration/);
});

Deno.test("rulesOf: defaults without a group; the strictest of several", () => {
  assert.deepEqual(rulesOf([]), { approvals: 1, maxMinutes: 480, approvers: [] });
  assert.deepEqual(
    rulesOf([{ approvals: 1, maxMinutes: 120, approvers: ["bo"] }, {
      approvals: 2,
      maxMinutes: 600,
      approvers: ["al", "bo"],
    }]),
    { approvals: 2, maxMinutes: 120, approvers: ["al", "bo"] },
  );
});

Deno.test("clampMinutes: never past the maximum", () => {
  assert.equal(clampMinutes(60, 480), 60);
  assert.equal(clampMinutes(600, 480), 480);
});

const now = new Date("2026-01-01T10:00:00Z");
const req = (over: Partial<PendingRequest> = {}): PendingRequest => ({
  state: "pending",
  userName: "alice",
  minutes: 60,
  logins: ["root", "deploy"],
  approvalsNeeded: 1,
  maxMinutes: 480,
  approvers: [],
  expiresAt: new Date("2026-01-01T10:10:00Z"),
  serverExists: true,
  ...over,
});

Deno.test("mayDecide: nobody decides their own request (case-insensitive); roles and named approvers", () => {
  assert.equal(mayDecide(req(), { approver: "Alice", role: "admin" }).ok, false);
  assert.equal(mayDecide(req(), { approver: "bob", role: "admin" }).ok, true);
  assert.equal(mayDecide(req(), { approver: "bob", role: "operator" }).ok, true);
  assert.equal(mayDecide(req(), { approver: "bob", role: "auditor" }).ok, false);
  const named = req({ approvers: ["carol"] });
  assert.equal(mayDecide(named, { approver: "bob", role: "operator" }).ok, false);
  assert.equal(mayDecide(named, { approver: "carol", role: "auditor" }).ok, true);
  assert.equal(mayDecide(named, { approver: "bob", role: "admin" }).ok, true);
});

Deno.test("approve: one approval completes with what was asked", () => {
  const o = approve(req(), [], { approver: "bob", role: "admin" }, now);
  assert.deepEqual(o, {
    ok: true,
    minutes: 60,
    logins: ["root", "deploy"],
    count: 1,
    complete: true,
    grantMinutes: 60,
    grantLogins: ["root", "deploy"],
  });
});

Deno.test("approve: shorten minutes and logins; never lengthen or add logins", () => {
  const o = approve(req(), [], { approver: "bob", role: "admin", minutes: 15, logins: ["deploy"] }, now);
  assert.equal(o.ok && o.grantMinutes, 15);
  assert.deepEqual(o.ok && o.grantLogins, ["deploy"]);
  const longer = approve(req(), [], { approver: "bob", role: "admin", minutes: 61 }, now);
  assert.equal(!longer.ok && longer.code, "lengthened");
  const other = approve(req(), [], { approver: "bob", role: "admin", logins: ["admin"] }, now);
  assert.equal(!other.ok && other.code, "login_not_requested");
});

Deno.test("approve: a request longer than the group maximum is clamped to it", () => {
  const r = req({ minutes: 600, maxMinutes: 120 });
  const o = approve(r, [], { approver: "bob", role: "admin" }, now);
  assert.equal(o.ok && o.grantMinutes, 120);
  const over = approve(r, [], { approver: "bob", role: "admin", minutes: 121 }, now);
  assert.equal(!over.ok && over.code, "lengthened");
  assert.match(!over.ok ? over.message : "", /group maximum/);
});

Deno.test("approve: N of M — counted, complete at N, the strictest minutes and shared logins", () => {
  const r = req({ approvalsNeeded: 2 });
  const first = approve(r, [], { approver: "bob", role: "admin", minutes: 30 }, now);
  assert.equal(first.ok && first.complete, false);
  const prior = [{ approver: "bob", minutes: 30, logins: ["root", "deploy"] }];
  const again = approve(r, prior, { approver: "BOB", role: "admin" }, now);
  assert.equal(!again.ok && again.code, "already_approved");
  const second = approve(r, prior, { approver: "carol", role: "operator", logins: ["root"] }, now);
  assert.deepEqual(second.ok && [second.complete, second.count, second.grantMinutes, second.grantLogins], [
    true,
    2,
    30,
    ["root"],
  ]);
  const disjoint = approve(r, [{ approver: "bob", minutes: 30, logins: ["deploy"] }], {
    approver: "carol",
    role: "admin",
    logins: ["root"],
  }, now);
  assert.equal(!disjoint.ok && disjoint.code, "login_not_requested");
});

Deno.test("approve: not pending, expired, self, unknown server are refused", () => {
  const code = (r: PendingRequest, approver = "bob") => {
    const o = approve(r, [], { approver, role: "admin" }, now);
    return o.ok ? "ok" : o.code;
  };
  assert.equal(code(req({ state: "denied" })), "not_pending");
  assert.equal(code(req({ expiresAt: now })), "expired");
  assert.equal(code(req(), "alice"), "self_approval");
  assert.equal(code(req({ serverExists: false })), "no_such_server");
});
