import assert from "node:assert/strict";
import { chooseVaultLogin } from "./vault_choice.ts";

const pick = (v: string[], a: string[], n: string | null) => {
  const r = chooseVaultLogin(v, a, n);
  return r.ok ? r.login : r.reason;
};

Deno.test("chooseVaultLogin: the only allowed vaulted login, or the one named", () => {
  assert.equal(pick(["CORP\\svc"], [], null), "CORP\\svc");
  assert.equal(pick(["CORP\\svc", "admin"], ["svc"], null), "CORP\\svc", "the grant narrows the vault");
  assert.equal(pick(["CORP\\svc", "admin"], [], null), "ambiguous");
  assert.equal(pick([], [], null), "no_credential");
  assert.equal(pick(["admin"], ["svc"], null), "no_credential");
  assert.equal(
    pick(["CORP\\svc", "admin"], [], "svc"),
    "CORP\\svc",
    "a bare name finds the domain's account",
  );
  assert.equal(pick(["CORP\\svc", "admin"], [], "corp\\SVC"), "CORP\\svc");
  assert.equal(pick(["CORP\\svc", "admin"], [], "svc@corp"), "CORP\\svc");
  assert.equal(pick(["CORP\\svc", "OTHER\\svc"], [], "svc"), "ambiguous");
  assert.equal(pick(["CORP\\svc", "OTHER\\svc"], [], "OTHER\\svc"), "OTHER\\svc");
  assert.equal(pick(["CORP\\svc"], [], "EVIL\\svc"), "not_vaulted");
  assert.equal(pick(["CORP\\svc", "admin"], ["CORP\\svc"], "admin"), "login_not_allowed");
  assert.equal(pick(["CORP\\svc"], [], "bad*"), "not_vaulted");
});
