import assert from "node:assert/strict";
import { transferLine } from "./command_index.ts";

Deno.test("transferLine: a moved file as one searchable line, with its hash and rename target", () => {
  assert.equal(
    transferLine({ protocol: "sftp", op: "write", path: "/etc/app.conf", sha256: "ab".repeat(32) }),
    `sftp write /etc/app.conf sha256:${"ab".repeat(32)}`,
  );
  assert.equal(
    transferLine({ protocol: "sftp", op: "rename", path: "/a", to: "/b" }),
    "sftp rename /a -> /b",
  );
  assert.equal(transferLine({ protocol: "scp", op: "download", path: "/x" }), "scp download /x");
  assert.equal(transferLine({ protocol: "sftp", op: "open" }), null);
  assert.equal(transferLine({ path: "/p".repeat(3000) })!.length, 4096);
});
