import assert from "node:assert/strict";
import { consoleRoleFor } from "./roles.ts";

Deno.test("console role from directory groups: the strongest mapped one, names case-insensitive", () => {
  const m = { "jump-admins": "admin", ops: "operator", Audit: "auditor" };
  assert.equal(consoleRoleFor(m, []), null);
  assert.equal(consoleRoleFor(m, ["staff"]), null);
  assert.equal(consoleRoleFor(m, ["audit"]), "auditor");
  assert.equal(consoleRoleFor(m, ["audit", "OPS"]), "operator");
  assert.equal(consoleRoleFor(m, ["ops", "jump-admins", "audit"]), "admin");
});
