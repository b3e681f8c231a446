import assert from "node:assert/strict";

Deno.test("deno task compile fails with a clear message when denort is missing", async () => {
  const env = Deno.env.toObject();
  delete env.DENORT_BIN;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../cli/compile.ts", import.meta.url).pathname, "/tmp/jumphost-test-compile"],
    env,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 1);
  assert.match(new TextDecoder().decode(out.stderr), /DENORT_BIN is not set/);
  const bad = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../cli/compile.ts", import.meta.url).pathname],
    env: { ...env, DENORT_BIN: "/nonexistent/denort" },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(bad.code, 1);
  assert.match(new TextDecoder().decode(bad.stderr), /DENORT_BIN=\/nonexistent\/denort does not exist/);
});
