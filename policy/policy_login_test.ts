import assert from "node:assert/strict";
import { isPolicyLogin } from "./policy_login.ts";

Deno.test("isPolicyLogin: Unix and Windows logins, never whitespace, ':' or '/'", () => {
  for (const ok of ["root", "deploy", "alice-adm", "CORP\\alice-adm", "alice-adm@corp.example", ".\\admin"]) {
    assert.ok(isPolicyLogin(ok), ok);
  }
  for (const bad of ["", "a b", "a:b", "a/b", "x\ty", "a".repeat(257)]) assert.ok(!isPolicyLogin(bad), bad);
});
