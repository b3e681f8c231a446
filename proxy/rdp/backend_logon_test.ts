import assert from "node:assert/strict";
import { planBackendLogon, splitLogin } from "./backend_logon.ts";

const base = {
  serverName: "desk",
  jumpUser: "alice",
  typed: { domain: "", password: "jump-pass" },
  namedLogin: null,
  vault: [],
  allowedLogins: [],
  passthrough: true,
};

Deno.test("planBackendLogon(): passthrough when the server's vault is empty", () => {
  assert.deepEqual(planBackendLogon(base), {
    kind: "passthrough",
    login: "alice",
    logon: { domain: "", user: "alice", password: "jump-pass" },
  });
  const withDomain = planBackendLogon({ ...base, typed: { domain: "CORP", password: "p" } });
  assert.ok(withDomain.kind === "passthrough" && withDomain.login === "CORP\\alice");
});

Deno.test("planBackendLogon(): the one allowed vaulted login, or the named one", () => {
  const vault = [{ login: "CORP\\svc", password: "v1" }, { login: "admin", password: "v2" }];
  const one = planBackendLogon({ ...base, vault, allowedLogins: ["corp\\SVC"] });
  assert.deepEqual(one, {
    kind: "vault",
    login: "CORP\\svc",
    logon: { domain: "CORP", user: "svc", password: "v1" },
  });
  const several = planBackendLogon({ ...base, vault });
  assert.ok(several.kind === "deny" && several.reason === "credential_ambiguous");
  assert.match(several.detail, /user\+LOGIN/);
  const none = planBackendLogon({ ...base, vault, allowedLogins: ["other"] });
  assert.ok(none.kind === "deny" && none.reason === "credential_no_credential");
  const named = planBackendLogon({ ...base, vault, namedLogin: "admin" });
  assert.ok(named.kind === "vault" && named.logon.password === "v2");
  const missing = planBackendLogon({ ...base, vault: [], namedLogin: "ghost" });
  assert.ok(missing.kind === "deny" && missing.reason === "credential_not_vaulted");
  const outside = planBackendLogon({ ...base, vault, namedLogin: "admin", allowedLogins: ["CORP\\svc"] });
  assert.ok(outside.kind === "deny" && outside.reason === "login_not_allowed");
});

Deno.test("planBackendLogon(): passthrough off keeps the jump password at the jump; the vault still applies", () => {
  assert.deepEqual(planBackendLogon({ ...base, passthrough: false }), { kind: "none" });
  const vault = [{ login: "CORP\\svc", password: "v1" }];
  const vaulted = planBackendLogon({ ...base, passthrough: false, vault });
  assert.ok(vaulted.kind === "vault" && vaulted.logon.password === "v1");
  const named = planBackendLogon({ ...base, passthrough: false, vault: [], namedLogin: "ghost" });
  assert.ok(named.kind === "deny" && named.reason === "credential_not_vaulted");
  for (const plan of [planBackendLogon({ ...base, passthrough: false }), vaulted]) {
    assert.ok(!JSON.stringify(plan).includes("jump-pass"), "never the jump password");
  }
});

Deno.test("splitLogin() splits DOMAIN\\user only", () => {
  assert.deepEqual(splitLogin("CORP\\svc"), { domain: "CORP", user: "svc" });
  assert.deepEqual(splitLogin("svc@corp.example"), { domain: "", user: "svc@corp.example" });
});
