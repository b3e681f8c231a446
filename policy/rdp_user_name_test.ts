import assert from "node:assert/strict";
import { parseRdpUserName, RdpUserNameError } from "./rdp_user_name.ts";

const parsed = (d: string, u: string) => {
  const r = parseRdpUserName(d, u);
  return [r.jumpUser, r.backendLoginText];
};

Deno.test("parseRdpUserName: jump user alone, and '+' naming the vaulted login", () => {
  assert.deepEqual(parsed("", "alice"), ["alice", null]);
  assert.deepEqual(parsed("WORKGROUP", "alice"), ["alice", null], "a domain without '+' is ignored");
  assert.deepEqual(parsed("", "alice+svc"), ["alice", "svc"]);
  assert.deepEqual(parsed("", "alice+svc@corp.example"), ["alice", "svc@corp.example"]);
  // mstsc splits "alice+CORP\svc" at the backslash
  assert.deepEqual(parsed("alice+CORP", "svc"), ["alice", "CORP\\svc"]);
  // xfreerdp /u:alice+svc /d:CORP
  assert.deepEqual(parsed("CORP", "alice+svc"), ["alice", "CORP\\svc"]);
  assert.deepEqual(parsed("CORP", "alice+svc@other"), ["alice", "svc@other"]);
  const r = parseRdpUserName("alice+CORP", "svc");
  assert.deepEqual(r.backendLogin, { user: "svc", domain: "CORP", form: "downlevel" });
});

Deno.test("parseRdpUserName refuses bad jump users and bad logins", () => {
  for (
    const [d, u] of [["", ""], ["", "+svc"], ["", "al ice"], ["", "alice+"], ["", "alice+a+b"], [
      "",
      "CORP\\alice+svc",
    ], ["alice+", "x*"]]
  ) {
    assert.throws(() => parseRdpUserName(d, u), RdpUserNameError, `${d}|${u}`);
  }
});
