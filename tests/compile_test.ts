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

// No denort exists for this machine, and the full deno binary ignores an appended program (it runs its own
// CLI), so the result cannot be started here. With deno as the stand-in base, `deno compile` still does
// everything else: resolves the whole module graph, embeds the workers, migrations and static assets.
Deno.test("deno task compile embeds the whole program: workers, migrations and assets", async () => {
  const dir = await Deno.makeTempDir({ prefix: "jh-compile-" });
  try {
    const output = `${dir}/jumphost`;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("../cli/compile.ts", import.meta.url).pathname, output],
      env: { DENORT_BIN: Deno.execPath() },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const binary = new TextDecoder("latin1").decode(await Deno.readFile(output));
    const root = new URL("../", import.meta.url);
    const names = [
      "proxy/ssh/ssh_worker.ts",
      "proxy/rdp/rdp_worker.ts",
      "recorder/convert/convert_worker.ts",
      "recorder/convert/ffmpeg_pipe_worker.ts",
      ...[...Deno.readDirSync(new URL("db/migrations/", root))].map((e) => `db/migrations/${e.name}`),
      ...[...Deno.readDirSync(new URL("web/static/", root))].map((e) => `web/static/${e.name}`),
    ];
    // the embedded file system lists each file by name inside its directory's entry
    for (const n of names) {
      assert.ok(binary.includes(`{"File":{"n":"${n.split("/").at(-1)}"`), `${n} is embedded`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
