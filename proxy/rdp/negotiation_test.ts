import assert from "node:assert/strict";
import {
  HYBRID_REQUIRED_BY_SERVER,
  PROTOCOL_HYBRID,
  PROTOCOL_HYBRID_EX,
  PROTOCOL_SSL,
  SSL_REQUIRED_BY_SERVER,
} from "./pdu/mod.ts";
import { backendRequestedProtocols, chooseClientProtocol, isNla } from "./negotiation.ts";

const MSTSC = PROTOCOL_SSL | PROTOCOL_HYBRID | PROTOCOL_HYBRID_EX;
const XFREERDP_DEFAULT = PROTOCOL_SSL | PROTOCOL_HYBRID;

Deno.test("chooseClientProtocol(): nla requires HYBRID, preferring HYBRID_EX", () => {
  assert.deepEqual(chooseClientProtocol(MSTSC, "nla"), { ok: true, protocol: PROTOCOL_HYBRID_EX });
  assert.deepEqual(chooseClientProtocol(XFREERDP_DEFAULT, "nla"), { ok: true, protocol: PROTOCOL_HYBRID });
  for (const offer of [PROTOCOL_SSL, 0, null]) {
    const c = chooseClientProtocol(offer, "nla");
    assert.ok(!c.ok && c.failureCode === HYBRID_REQUIRED_BY_SERVER && c.reason === "nla_required");
  }
});

Deno.test("chooseClientProtocol(): tls never selects NLA", () => {
  assert.deepEqual(chooseClientProtocol(MSTSC, "tls"), { ok: true, protocol: PROTOCOL_SSL });
  for (const offer of [PROTOCOL_HYBRID, 0, null]) {
    const c = chooseClientProtocol(offer, "tls");
    assert.ok(!c.ok && c.failureCode === SSL_REQUIRED_BY_SERVER && c.reason === "tls_required");
  }
  const legacy = chooseClientProtocol(null, "tls");
  assert.ok(!legacy.ok && legacy.detail === "client offered only standard RDP security");
});

Deno.test("chooseClientProtocol(): any uses NLA when offered, else TLS", () => {
  assert.deepEqual(chooseClientProtocol(MSTSC, "any"), { ok: true, protocol: PROTOCOL_HYBRID_EX });
  assert.deepEqual(chooseClientProtocol(XFREERDP_DEFAULT, "any"), { ok: true, protocol: PROTOCOL_HYBRID });
  assert.deepEqual(chooseClientProtocol(PROTOCOL_SSL, "any"), { ok: true, protocol: PROTOCOL_SSL });
  const c = chooseClientProtocol(0, "any");
  assert.ok(!c.ok && c.failureCode === SSL_REQUIRED_BY_SERVER);
});

Deno.test("backendRequestedProtocols() asks for NLA only with a credential", () => {
  assert.equal(backendRequestedProtocols(false), PROTOCOL_SSL);
  assert.equal(backendRequestedProtocols(true), MSTSC);
  assert.ok(isNla(PROTOCOL_HYBRID) && isNla(PROTOCOL_HYBRID_EX) && !isNla(PROTOCOL_SSL) && !isNla(MSTSC));
});
