import assert from "node:assert/strict";
import { DbError, parseDbUrl } from "./client.ts";

Deno.test("parseDbUrl: one host, a socket directory, several hosts with target_session_attrs", () => {
  assert.deepEqual(parseDbUrl("postgres://u:p@db1:5432/jh"), {
    url: "postgres://u:p@db1:5432/jh",
    socketDir: null,
    hosts: ["db1:5432"],
    targetSessionAttrs: null,
  });
  const sock = parseDbUrl("postgres://jumphost@localhost/t1?host=%2Ftmp%2Fpg");
  assert.equal(sock.socketDir, "/tmp/pg");
  assert.equal(sock.url, "postgres://jumphost@localhost/t1");
  const multi = parseDbUrl(
    "postgresql://jumphost:s%40cret@10.0.0.1:5432,10.0.0.2:5433/jumphost?target_session_attrs=read-write&sslmode=require",
  );
  assert.deepEqual(multi.hosts, ["10.0.0.1:5432", "10.0.0.2:5433"]);
  assert.equal(multi.targetSessionAttrs, "read-write");
  assert.equal(
    multi.url,
    "postgresql://jumphost:s%40cret@10.0.0.1:5432,10.0.0.2:5433/jumphost?sslmode=require",
  );
  assert.equal(parseDbUrl("postgres://a,b/x?target_session_attrs=primary").url, "postgres://a,b/x");
  assert.throws(() => parseDbUrl("postgres://a,b/x?target_session_attrs=standby"), DbError);
  assert.throws(() => parseDbUrl("mysql://a/x"), DbError);
});
