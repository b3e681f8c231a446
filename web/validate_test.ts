import assert from "node:assert/strict";
import { emailError, nameError, parseKeyLines, parseSourceLines, portError } from "./validate.ts";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice@laptop";

Deno.test("parseSourceLines() normalises addresses, flags shared ranges, reports every bad line", () => {
  assert.deepEqual(parseSourceLines(["192.0.2.7", "10.1.0.0/24 shared"]), {
    ips: [{ cidr: "192.0.2.7/32", shared: false }, { cidr: "10.1.0.0/24", shared: true }],
    error: null,
  });
  const r = parseSourceLines(["10.1.0.1/24", "nope", "1.2.3.4 private", "1.2.3.4", "1.2.3.4/32"]);
  assert.equal(r.ips.length, 2);
  assert.match(r.error!, /host bits/);
  assert.match(r.error!, /"nope"|nope/);
  assert.match(r.error!, /shared/);
  assert.match(r.error!, /listed twice/);
});

Deno.test("parseKeyLines() returns fingerprints and line-numbered errors", () => {
  const ok = parseKeyLines([KEY]);
  assert.equal(ok.error, null);
  assert.match(ok.keys[0].fingerprint, /^SHA256:/);
  assert.equal(ok.keys[0].comment, "alice@laptop");
  const bad = parseKeyLines([KEY, "ssh-dss AAAA x"]);
  assert.match(bad.error!, /^line 2: /);
});

Deno.test("name, email and port checks", () => {
  assert.equal(nameError("web-1.prod"), null);
  assert.ok(nameError("<script>"));
  assert.ok(nameError(""));
  assert.equal(emailError(""), null);
  assert.ok(emailError("not mail"));
  assert.equal(portError("22"), null);
  assert.ok(portError("70000"));
  assert.ok(portError("", true));
});
