import assert from "node:assert/strict";
import {
  AUDIT_SD_ID,
  auditMessage,
  FACILITY,
  formatRfc5424,
  frameOctetCounted,
  parseSyslogTarget,
  SEVERITY,
  SyslogError,
} from "./syslog.ts";

const dec = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test("formatRfc5424() writes PRI, version, RFC 3339 time, header fields, escaped SD and a BOM'd MSG", () => {
  const out = dec(formatRfc5424({
    facility: FACILITY.authpriv,
    severity: SEVERITY.warning,
    time: new Date("2025-03-04T05:06:07.089Z"),
    hostname: "jh1",
    appName: "jumphost",
    procId: "4242",
    msgId: "ssh.access_denied",
    data: [[AUDIT_SD_ID, [["actor", 'al"ice'], ["target", "a]b\\c"]]]],
    msg: "denied: no policy",
  }));
  assert.equal(
    out,
    '<84>1 2025-03-04T05:06:07.089Z jh1 jumphost 4242 ssh.access_denied [jumphost@32473 actor="al\\"ice" target="a\\]b\\\\c"] \ufeffdenied: no policy',
  );
});

Deno.test("formatRfc5424() uses NILVALUE for empty fields and replaces non-printable header characters", () => {
  const out = dec(formatRfc5424({
    facility: 1,
    severity: 6,
    time: null,
    hostname: "host with space",
    appName: "",
    procId: "1",
    msgId: "x".repeat(40),
    data: [],
    msg: "",
  }));
  assert.equal(out, `<14>1 - host_with_space - 1 ${"x".repeat(32)} -`);
});

Deno.test("formatRfc5424() cuts an oversize MSG on a UTF-8 character boundary", () => {
  const msg = "é".repeat(100); // 2 bytes each
  const bytes = formatRfc5424({
    facility: 10,
    severity: 6,
    time: null,
    hostname: "h",
    appName: "a",
    procId: "1",
    msgId: "m",
    data: [],
    msg,
  }, 60);
  assert.ok(bytes.length <= 60);
  const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes); // throws on a split character
  assert.match(text, /^<86>1 - h a 1 m - \ufeffé+$/);
});

Deno.test("frameOctetCounted() prefixes the byte length (RFC 6587)", () => {
  const m = new TextEncoder().encode("<14>1 - - - - - - é");
  assert.equal(dec(frameOctetCounted(m)), `${m.length} <14>1 - - - - - - é`);
});

Deno.test("parseSyslogTarget() accepts udp/tcp/unix and rejects anything else with a typed error", () => {
  assert.deepEqual(parseSyslogTarget("udp://127.0.0.1:514"), {
    transport: "udp",
    host: "127.0.0.1",
    port: 514,
  });
  assert.deepEqual(parseSyslogTarget("tcp://[::1]:6514"), { transport: "tcp", host: "::1", port: 6514 });
  assert.deepEqual(parseSyslogTarget("tcp://logs.example.org:601"), {
    transport: "tcp",
    host: "logs.example.org",
    port: 601,
  });
  assert.deepEqual(parseSyslogTarget("unix:///dev/log"), { transport: "unix", path: "/dev/log" });
  for (const bad of ["udp://host", "http://h:1", "tcp://h:0", "tcp://h:70000", "unix://relative", ""]) {
    assert.throws(
      () => parseSyslogTarget(bad),
      (e) => e instanceof SyslogError && e.code === "bad_target",
      bad,
    );
  }
});

Deno.test("auditMessage() maps an audit row: warning for failures, action as MSGID, details as JSON", () => {
  const row = {
    id: 7,
    at: new Date("2025-01-01T00:00:00Z"),
    actor: "alice",
    action: "ssh.access_denied",
    target: "web1",
    source_ip: "10.0.0.5",
    success: false,
    details: { reason: "no_policy" },
    node_id: "jh1",
  };
  const m = auditMessage(row, "jh1", "99");
  assert.equal(m.severity, SEVERITY.warning);
  assert.equal(m.facility, FACILITY.authpriv);
  assert.equal(
    dec(formatRfc5424(m)),
    '<84>1 2025-01-01T00:00:00.000Z jh1 jumphost 99 ssh.access_denied [jumphost@32473 id="7" actor="alice" ' +
      'success="false" target="web1" src="10.0.0.5" node="jh1"] \ufeffssh.access_denied by alice on web1 ' +
      'from 10.0.0.5: FAILED {"reason":"no_policy"}',
  );
  const ok = auditMessage(
    { ...row, success: true, target: null, source_ip: null, details: {}, node_id: null },
    "h",
    "1",
  );
  assert.equal(ok.severity, SEVERITY.info);
  assert.equal(ok.msg, "ssh.access_denied by alice: ok");
});
