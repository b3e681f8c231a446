// The node:crypto fallback of the SSH packet crypto (proxy/ssh/libcrypto.ts): with JUMPHOST_SSH_CRYPTO=node
// the e2e cipher test (real OpenSSH client → proxy → real sshd, every default cipher and MAC, rekeys) runs
// again in a child process, where it also checks that no libcrypto cipher was made.
import assert from "node:assert/strict";

Deno.test("JUMPHOST_SSH_CRYPTO=node: every default cipher and MAC still works, on node:crypto", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "test",
      "-A",
      "--sanitize-ops",
      "--sanitize-resources",
      "--filter",
      "every default cipher",
      new URL("./ssh_algorithms_test.ts", import.meta.url).pathname,
    ],
    env: { JUMPHOST_SSH_CRYPTO: "node", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, text);
  assert.match(text, /ok \| 1 passed \(6 steps\)/, text);
});
