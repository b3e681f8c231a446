// `jumphost help CMD` and `jumphost CMD --help` print the command's usage without touching a database.
import assert from "node:assert/strict";
import { jh } from "./helpers/cli.ts";

// an unreachable database: help must not need one
const env = { JUMPHOST_DATABASE_URL: "postgres://nobody@127.0.0.1:1/none" };

Deno.test("every command prints its usage for --help, -h and 'help CMD', exit 0", async () => {
  const top = await jh(["help"], { env });
  assert.equal(top.code, 0);
  const names = [...top.stdout.matchAll(/^ {2}(\w+) {2,}/gm)].map((m) => m[1]);
  assert.ok(names.length >= 15, `commands listed: ${names}`);
  const cases = [...names.map((n) => [n, "--help"]), ["help", "server"], ["help", "sessions"]];
  for (const args of cases) {
    const name = args[0] === "help" ? args[1] : args[0];
    const r = await jh(args, { env });
    assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^${name}: .+\\n\\nusage: jumphost ${name}`), args.join(" "));
    assert.equal(r.stderr, "");
  }
  const sub = await jh(["server", "edit", "-h"], { env });
  assert.equal(sub.code, 0);
  assert.match(sub.stdout, /--reset-rdp-cert/);
});

Deno.test("an unknown command or no command at all is a usage error (exit 2)", async () => {
  const unknown = await jh(["help", "nope"], { env });
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command "nope"/);
  const none = await jh([], { env });
  assert.equal(none.code, 2);
  assert.match(none.stdout, /usage: jumphost/);
});
