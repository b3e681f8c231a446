// The RDP proxy's worker isolate: its own database pool, policy snapshot and listeners, driven by the
// typed messages of proxy/messages.ts (proxy/worker_runtime.ts) from startRdpService (app/rdp_service.ts).
/// <reference lib="deno.worker" />
import { recordingEncryption } from "../../core/recording_identity.ts";
import { runProxyWorker } from "../worker_runtime.ts";
import type { RdpWorkerOptions } from "./messages.ts";
import { createRdpProxy } from "./proxy.ts";
import { proxyProtocolSettings } from "../proxy_protocol.ts";

runProxyWorker<RdpWorkerOptions>({
  label: "RDP",
  appName: "jumphost-rdp",
  async start(m, { sql, log, metrics }) {
    const c = m.config;
    const proxy = await createRdpProxy({
      sql,
      nodeId: c.nodeId,
      listen: c.rdpListen,
      dataDir: c.dataDir,
      recordingsDir: c.recordingsDir,
      // at start, so a bad recipient or an unwritable identity stops the proxy rather than a session
      recordingEncryption: await recordingEncryption(c, c.dataDir),
      onRecordingFailure: c.onRecordingFailure,
      mfaSeparator: c.rdpMfaSeparator,
      log,
      tlsCertPath: m.options.tlsCertPath ?? null,
      tlsKeyPath: m.options.tlsKeyPath ?? null,
      metrics,
      proxyProtocol: proxyProtocolSettings(c.proxyProtocolFrom, c.proxyProtocol),
    });
    return {
      addresses: proxy.addresses,
      close: () => proxy.stop(),
      reload: (config, log) => {
        proxy.setMfaSeparator(config.rdpMfaSeparator);
        void proxy.reloadCertificate({ certPath: config.rdpTlsCert, keyPath: config.rdpTlsKey }).catch((e) =>
          log.error("RDP certificate reload failed; keeping the old one", { error: (e as Error).message })
        );
      },
    };
  },
});
