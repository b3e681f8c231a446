import assert from "node:assert/strict";
import {
  canonicalWindowsLogin,
  parseWindowsLogin,
  windowsLoginAllowed,
  WindowsLoginError,
  windowsLoginMatches,
} from "./windows_login.ts";

Deno.test("parseWindowsLogin: the three forms", () => {
  assert.deepEqual(parseWindowsLogin("alice"), { user: "alice", domain: null, form: "plain" });
  assert.deepEqual(parseWindowsLogin("CORP\\alice"), { user: "alice", domain: "CORP", form: "downlevel" });
  assert.deepEqual(parseWindowsLogin("alice@corp.example"), {
    user: "alice",
    domain: "corp.example",
    form: "upn",
  });
  assert.deepEqual(parseWindowsLogin(".\\admin"), { user: "admin", domain: ".", form: "downlevel" });
  assert.equal(parseWindowsLogin("o'brien#1").user, "o'brien#1");
});

Deno.test("parseWindowsLogin refuses what Windows would", () => {
  for (
    const bad of [
      "",
      "\\alice",
      "CORP\\",
      "alice@",
      "a+b",
      "a*b",
      "CORP\\a\\b",
      "a b ",
      " ab",
      "x\ty",
      "a".repeat(257),
      "CO RP\\x",
      "a@b@c",
    ]
  ) {
    assert.throws(() => parseWindowsLogin(bad), WindowsLoginError, JSON.stringify(bad));
  }
});

Deno.test("windowsLoginMatches: a domain-less policy login matches that account in any domain", () => {
  for (const r of ["alice-adm", "ALICE-ADM", "CORP\\alice-adm", "alice-adm@corp", "other\\Alice-Adm"]) {
    assert.ok(windowsLoginMatches("alice-adm", r), r);
  }
  for (const r of ["alice", "alice-adm2", "CORP\\bob", "bob@corp", "not valid*"]) {
    assert.ok(!windowsLoginMatches("alice-adm", r), r);
  }
});

Deno.test("windowsLoginMatches: a domain policy login matches only that domain, either spelling", () => {
  for (const p of ["CORP\\x", "x@corp"]) {
    for (const r of ["CORP\\x", "corp\\X", "x@corp", "X@CORP"]) {
      assert.ok(windowsLoginMatches(p, r), `${p} ${r}`);
    }
    for (const r of ["x", "OTHER\\x", "x@corp.example", "CORP\\y", ".\\x"]) {
      assert.ok(!windowsLoginMatches(p, r), `${p} ${r}`);
    }
  }
});

Deno.test("windowsLoginAllowed: empty list = any; otherwise any entry", () => {
  assert.ok(windowsLoginAllowed([], "whoever"));
  assert.ok(windowsLoginAllowed(["bob", "CORP\\alice"], "corp\\ALICE"));
  assert.ok(!windowsLoginAllowed(["bob", "CORP\\alice"], "alice"));
  assert.ok(!windowsLoginAllowed(["bob"], ""));
});

Deno.test("canonicalWindowsLogin: one spelling per account", () => {
  assert.equal(canonicalWindowsLogin(parseWindowsLogin("corp\\Svc")), "CORP\\SVC");
  assert.equal(canonicalWindowsLogin(parseWindowsLogin("svc")), "SVC");
});
