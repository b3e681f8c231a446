import assert from "node:assert/strict";
import { parseJumpCommand, splitWords } from "./jump_command.ts";

Deno.test("splitWords: spaces, quotes, escapes", () => {
  assert.deepEqual(splitWords(` a  'b c' "d \\"e\\"" f\\ g `), ["a", "b c", 'd "e"', "f g"]);
  assert.deepEqual(splitWords(""), []);
  assert.deepEqual(splitWords("''"), [""]);
});

Deno.test("parseJumpCommand: the request form as OpenSSH delivers it (quotes gone, reason to the next option)", () => {
  assert.deepEqual(
    parseJumpCommand("request web1 --login root --minutes 60 --reason disk full on /var --wait"),
    {
      kind: "request",
      request: { server: "web1", logins: ["root"], minutes: 60, reason: "disk full on /var", wait: true },
    },
  );
  assert.deepEqual(
    parseJumpCommand(`request web1 --reason "restart nginx" --login=root,deploy --login www --minutes=2h`),
    {
      kind: "request",
      request: {
        server: "web1",
        logins: ["root", "deploy", "www"],
        minutes: 120,
        reason: "restart nginx",
        wait: false,
      },
    },
  );
  assert.deepEqual(parseJumpCommand(""), { kind: "help" });
  assert.deepEqual(parseJumpCommand("help"), { kind: "help" });
});

Deno.test("parseJumpCommand: malformed input is refused with a clear message", () => {
  const msg = (c: string) => {
    const r = parseJumpCommand(c);
    assert.equal(r.kind, "invalid", c);
    return (r as { message: string }).message;
  };
  assert.match(msg("ls -l"), /unknown command "ls"/);
  assert.match(msg("request --login root --minutes 5 --reason abc"), /name the SERVER/);
  assert.match(msg("request web1 --minutes 5 --reason abc"), /--login/);
  assert.match(msg("request web1 --login root --reason abc"), /--minutes N/);
  assert.match(msg("request web1 --login root --minutes 5"), /--reason/);
  assert.match(msg("request web1 --login root --minutes soon --reason abc"), /not a duration/);
  assert.match(msg("request web1 --login root --minutes 0 --reason abc"), /not a duration/);
  assert.match(msg("request web1 --login root --minutes 5 --reason ab"), /3 to 500/);
  assert.match(msg("request web1 --login root --minutes 5 --reason"), /3 to 500/);
  assert.match(msg("request web1 web2 --login root --minutes 5 --reason abc"), /unexpected argument "web2"/);
  assert.match(msg("request web1 --login --minutes 5 --reason abc"), /--login needs a value/);
  assert.match(msg("request web1 --sudo"), /unknown option --sudo/);
  assert.match(msg("request web1 --minutes 5 --minutes 6"), /given twice/);
  assert.match(msg("x".repeat(5000)), /too long/);
});
