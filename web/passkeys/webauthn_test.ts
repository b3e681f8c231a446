import assert from "node:assert/strict";
import { PasskeyError, relyingPartyOf } from "./webauthn.ts";

Deno.test("relyingPartyOf: the console's host name and origin; https, or http on localhost only", () => {
  assert.deepEqual(relyingPartyOf(new URL("https://jump.example.org/login")), {
    rpId: "jump.example.org",
    origin: "https://jump.example.org",
  });
  assert.deepEqual(relyingPartyOf(new URL("https://jump.example.org:8443/account")), {
    rpId: "jump.example.org",
    origin: "https://jump.example.org:8443",
  });
  assert.deepEqual(relyingPartyOf(new URL("http://localhost:8080/login")), {
    rpId: "localhost",
    origin: "http://localhost:8080",
  });
});

Deno.test("relyingPartyOf: an IP address or plain http elsewhere is refused with a reason", () => {
  for (
    const [url, code] of [
      ["https://192.0.2.10/login", "ip_host"],
      ["https://[2001:db8::1]/login", "ip_host"],
      ["http://jump.example.org/login", "insecure"],
    ] as const
  ) {
    assert.throws(
      () => relyingPartyOf(new URL(url)),
      (e) => e instanceof PasskeyError && e.code === code,
      url,
    );
  }
});
