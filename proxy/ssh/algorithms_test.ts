import assert from "node:assert/strict";
import ssh2 from "ssh2";
import { SUPPORTED_SSH_CIPHERS, SUPPORTED_SSH_KEX, SUPPORTED_SSH_MACS } from "../../core/ssh_algorithms.ts";
import { backendAlgorithms, preferAesGcm, serverAlgorithms } from "./algorithms.ts";
import { generateKeyPairSync } from "./ssh2_types.ts";

// deno-lint-ignore no-explicit-any
const { Server } = ssh2 as any;

Deno.test("every algorithm the configuration accepts is one ssh2 accepts in Deno", () => {
  const all = {
    kex: [...SUPPORTED_SSH_KEX],
    ciphers: [...SUPPORTED_SSH_CIPHERS],
    macs: [...SUPPORTED_SSH_MACS],
  };
  // ssh2 throws "Unsupported algorithm" for a name it (or Deno's node:crypto) cannot do
  const server = new Server({
    hostKeys: [generateKeyPairSync("ed25519").private],
    algorithms: serverAlgorithms(all),
  });
  server.close();
  for (const kind of ["kex", "ciphers", "macs"] as const) {
    for (const name of all[kind]) {
      const one = { ...all, [kind]: [name] };
      assert.doesNotThrow(
        () =>
          new Server({
            hostKeys: [generateKeyPairSync("ed25519").private],
            algorithms: serverAlgorithms(one),
          }).close(),
        name,
      );
    }
  }
  assert.deepEqual(new Set(backendAlgorithms(all).cipher), new Set(all.ciphers));
});

Deno.test("preferAesGcm() moves the configured AES-GCM ciphers first and keeps each group's order", () => {
  assert.deepEqual(
    preferAesGcm([
      "chacha20-poly1305@openssh.com",
      "aes128-ctr",
      "aes256-gcm@openssh.com",
      "aes128-gcm@openssh.com",
    ]),
    ["aes256-gcm@openssh.com", "aes128-gcm@openssh.com", "chacha20-poly1305@openssh.com", "aes128-ctr"],
  );
  assert.deepEqual(preferAesGcm(["chacha20-poly1305@openssh.com", "aes128-ctr"]), [
    "chacha20-poly1305@openssh.com",
    "aes128-ctr",
  ]);
});
