import assert from "node:assert/strict";
import {
  type Choices,
  firstInvalidStep,
  splitLogins,
  stepOfField,
  toPolicyInput,
  validateStep,
} from "./policy_wizard.ts";

const ch: Choices = {
  users: ["alice"],
  userGroups: ["ops"],
  servers: [{ name: "web1", protocols: ["ssh"] }, { name: "win1", protocols: ["rdp", "ssh"] }],
  serverGroups: ["linux"],
};
const now = new Date("2025-06-01T12:00:00Z");

Deno.test("validateStep() checks each step's fields against the existing names", () => {
  assert.deepEqual(validateStep(0, { subject_kind: "user", subject: "alice" }, ch, now), {});
  assert.match(
    validateStep(0, { subject_kind: "user", subject: "bob" }, ch, now).subject,
    /no user named "bob"/,
  );
  assert.ok(validateStep(0, { subject_kind: "robot", subject: "x" }, ch, now).subject_kind);
  assert.deepEqual(validateStep(1, { scope_kind: "server_group", scope: "linux" }, ch, now), {});
  assert.match(
    validateStep(1, { scope_kind: "server_protocol", scope: "web1", protocol: "rdp" }, ch, now).protocol,
    /does not offer RDP/,
  );
  assert.deepEqual(
    validateStep(1, { scope_kind: "server_protocol", scope: "win1", protocol: "rdp" }, ch, now),
    {},
  );
  assert.match(validateStep(2, { logins: "root, a:b" }, ch, now).logins, /a:b/);
  assert.deepEqual(validateStep(3, { validity_mode: "duration", duration_minutes: "30" }, ch, now), {});
  assert.ok(validateStep(3, { validity_mode: "duration", duration_minutes: "0" }, ch, now).duration_minutes);
  assert.match(
    validateStep(3, { validity_mode: "range", valid_until: "2025-06-01T11:00" }, ch, now).valid_until,
    /past/,
  );
  assert.match(
    validateStep(
      3,
      { validity_mode: "range", valid_from: "2025-07-01T00:00", valid_until: "2025-06-30T00:00" },
      ch,
      now,
    ).valid_until,
    /after/,
  );
});

Deno.test("firstInvalidStep() finds the earliest step to reopen", () => {
  const a = {
    subject_kind: "user",
    subject: "alice",
    scope_kind: "server",
    scope: "nope",
    validity_mode: "duration",
    duration_minutes: "5",
  };
  assert.equal(firstInvalidStep(4, a, ch, now).step, 1);
  assert.equal(firstInvalidStep(0, a, ch, now).step, -1);
  assert.equal(stepOfField("valid_until"), 3);
  assert.equal(stepOfField("policy"), 4);
});

Deno.test("toPolicyInput() maps answers: duration from now, one protocol of a server, logins split", () => {
  const p = toPolicyInput({
    subject_kind: "user_group",
    subject: "ops",
    scope_kind: "server_protocol",
    scope: "win1",
    protocol: "rdp",
    logins: "root admin, root",
    port_forwarding: "on",
    validity_mode: "duration",
    duration_minutes: "90",
    schedules: "Mon-Fri 08:00-18:00 UTC\n\n Sat 09:00-10:00 UTC ",
  }, now);
  assert.deepEqual(p, {
    user: undefined,
    userGroup: "ops",
    server: "win1",
    serverGroup: undefined,
    protocols: ["rdp"],
    logins: ["root", "admin"],
    portForwarding: true,
    schedules: ["Mon-Fri 08:00-18:00 UTC", "Sat 09:00-10:00 UTC"],
    validFrom: now,
    validUntil: new Date("2025-06-01T13:30:00Z"),
  });
  const r = toPolicyInput({
    subject_kind: "user",
    subject: "alice",
    scope_kind: "server_group",
    scope: "linux",
    validity_mode: "range",
    valid_from: "2025-06-02T08:00",
    valid_until: "2025-06-02T17:00",
  }, now);
  assert.equal(r.validFrom.toISOString(), "2025-06-02T08:00:00.000Z");
  assert.deepEqual(r.protocols, []);
  assert.deepEqual(splitLogins(""), []);
});
