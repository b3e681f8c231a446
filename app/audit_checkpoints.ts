// Signs a checkpoint of the audit chain every `audit_checkpoint_interval` seconds (when rows were added
// since the last one), and once more when serve stops: after every service stopped and the system.stop
// row was written (finalAuditCheckpoint, called by serve.ts), so it covers the last rows of the run.
// Each tick first seals this node's recordings that ended without a seal (a recording kind that does not
// close through proxy/recording_seal.ts, a seal lost in a database outage).
import type { ServeDeps, Service } from "./service.ts";
import type { Config } from "../core/config.ts";
import type { Logger } from "../core/log.ts";
import type { Sql } from "../db/client.ts";
import { loadSigningKey } from "../core/signing_key.ts";
import { writeCheckpoint } from "../db/audit_checkpoint.ts";
import { writeAudit } from "../db/audit.ts";
import { unsealedRecordings } from "../db/recording_seals.ts";
import { createRecordingSealer } from "../proxy/recording_seal.ts";

export async function startAuditCheckpoints(d: ServeDeps): Promise<Service> {
  const log = d.log.child("audit-checkpoints");
  const key = await loadSigningKey(d.config.dataDir);
  log.info("audit chain checkpoints", {
    every_s: d.config.auditCheckpointInterval,
    key: key.publicKey.fingerprint,
  });
  const seal = createRecordingSealer({
    sql: d.sql,
    nodeId: d.config.nodeId,
    key: () => Promise.resolve(key),
    audit: (e) => writeAudit(d.sql, e, d.config.nodeId),
    log: (m, f) => log.error(m, f),
  });
  let running: Promise<void> = Promise.resolve();
  const checkpoint = () =>
    running = running.then(async () => {
      try {
        for (const r of await unsealedRecordings(d.sql, d.config.nodeId)) {
          log.info("sealing a recording that closed without a seal", { recording: r.id });
          await seal(r.id, r.session_id);
        }
        const id = await writeCheckpoint(d.sql, key, d.config.nodeId);
        if (id) log.debug("audit checkpoint signed", { checkpoint: id });
      } catch (e) {
        // the database may be down: the next interval (or the stop) tries again
        log.warn("cannot seal recordings or sign an audit checkpoint", { error: (e as Error).message });
      }
    });
  const every = d.config.auditCheckpointInterval;
  const timer = every > 0 ? setInterval(() => void checkpoint(), every * 1000) : null;
  await checkpoint();
  return {
    name: "audit-checkpoints",
    async stop() {
      if (timer !== null) clearInterval(timer);
      await running;
    },
  };
}

export async function finalAuditCheckpoint(sql: Sql, config: Config, log: Logger): Promise<void> {
  try {
    const key = await loadSigningKey(config.dataDir);
    const id = await writeCheckpoint(sql, key, config.nodeId);
    log.info("audit checkpoint signed at stop", { checkpoint: id ?? "(head unchanged)" });
  } catch (e) {
    log.error("cannot sign the audit checkpoint at stop", { error: (e as Error).message });
  }
}
