import assert from "node:assert/strict";
import { crashHookEnabled } from "./worker_crash_hook.ts";

Deno.test("crashHookEnabled() is on only for a worker the variable names", () => {
  const cases: [string | undefined, string, boolean][] = [
    [undefined, "SSH", false],
    ["", "SSH", false],
    ["1", "SSH", false],
    ["ssh", "SSH", true],
    ["rdp, ssh", "SSH", true],
    ["rdp", "SSH", false],
    ["sshd", "SSH", false],
  ];
  for (const [value, worker, want] of cases) {
    assert.equal(crashHookEnabled(value, worker), want, `${value} / ${worker}`);
  }
});
