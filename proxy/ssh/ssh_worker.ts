// The SSH proxy's worker isolate: its own database pool, policy snapshot and listeners, driven by the
// typed messages of proxy/messages.ts (proxy/worker_runtime.ts) from startSshService (app/ssh_service.ts).
/// <reference lib="deno.worker" />
import { recordingEncryption, recordingKeys } from "../../core/recording_identity.ts";
import { UtmpWriter } from "../../recorder/utmp.ts";
import type { SshWorkerOptions } from "../messages.ts";
import { runProxyWorker } from "../worker_runtime.ts";
import { scaledClock, systemClock } from "../../core/clock.ts";
import { loadOrCreateHostKeys } from "./host_keys.ts";
import { backendKeyLoader } from "../../keys/backend_keys.ts";
import { createSshProxy } from "./server.ts";
import { loadApplianceKey } from "../../core/appliance_key.ts";
import type { SecretKey } from "../../core/secret_box.ts";
import { spoolDir } from "../audit_spool.ts";
import { loadSigningKey, type SigningKey } from "../../core/signing_key.ts";
import { proxyProtocolSettings } from "../proxy_protocol.ts";

runProxyWorker<SshWorkerOptions>({
  label: "SSH",
  appName: "jumphost-ssh",
  async start(m, { sql, log, metrics }) {
    const c = m.config;
    await Deno.mkdir(c.recordingsDir, { recursive: true, mode: 0o700 });
    const factor = m.options.clockFactor ?? 1;
    let secret: Promise<SecretKey> | null = null;
    let signing: Promise<SigningKey> | null = null;
    const proxy = await createSshProxy({
      sql,
      nodeId: c.nodeId,
      hostKeys: await loadOrCreateHostKeys(c.dataDir),
      recordingsDir: c.recordingsDir,
      clock: factor === 1 ? systemClock : scaledClock(factor),
      log,
      utmp: c.utmpFile || c.wtmpFile ? new UtmpWriter(c.utmpFile, c.wtmpFile) : null,
      applianceKeyFor: backendKeyLoader(c.dataDir),
      metrics,
      secretKey: () => (secret ??= loadApplianceKey(c.dataDir).catch((e) => {
        secret = null; // not cached: the key may appear (first enrolment) or the disk recover
        throw e;
      })),
      algorithms: { kex: c.sshKex, ciphers: c.sshCiphers, macs: c.sshMacs },
      auditSpoolDir: spoolDir(c.dataDir),
      directory: c.ldap,
      onRecordingFailure: c.onRecordingFailure,
      // at start, so a bad recipient or an unwritable identity stops the proxy rather than a session
      recordingEncryption: await recordingEncryption(c, c.dataDir),
      recordingKeys: recordingKeys(c.dataDir),
      streamKeepBytes: c.streamRecordingMaxMib * 2 ** 20,
      signingKey: () => (signing ??= loadSigningKey(c.dataDir).catch((e) => {
        signing = null;
        throw e;
      })),
      proxyProtocol: proxyProtocolSettings(c.proxyProtocolFrom, c.proxyProtocol),
      requestWaitMs: c.requestWaitMinutes * 60_000,
    });
    try {
      return {
        addresses: await proxy.listen(c.sshListen),
        close: (reason) => proxy.close(reason),
        // host keys and listeners stay as they are: changing them under live clients would break them
        reload: (_config, log) =>
          log.info("SSH proxy: configuration reload needs a restart for listen addresses"),
      };
    } catch (e) {
      await proxy.close("error").catch(() => {});
      throw e;
    }
  },
});
