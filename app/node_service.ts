// serve's "nodes" service: registers this node (name = node_id, its listen addresses, version, start time),
// beats every 5 s, and at each beat declares lost any other node silent for node_lost_after seconds
// (db/nodes.ts does it once across the cluster). A node that finds itself declared lost (it was paused or
// cut off from the database) ends the sessions that were closed under it: the database says they ended, so
// they must not go on. Started first and stopped last, so the row says "stopped" only after the proxies
// closed their sessions.
import type { ServeDeps, Service } from "./service.ts";
import type { ListenAddress } from "../core/config.ts";
import { HEARTBEAT_INTERVAL_MS } from "../core/node_health.ts";
import { JUMPHOST_VERSION } from "../core/version.ts";
import {
  beatNode,
  declareLostNodes,
  markNodeStopped,
  registerNode,
  sessionsClosedAsLost,
} from "../db/nodes.ts";
import { notifySessionKill } from "../db/notify.ts";
import { writeAudit } from "../db/audit.ts";

const fmt = (l: ListenAddress) => l.host.includes(":") ? `[${l.host}]:${l.port}` : `${l.host}:${l.port}`;

export async function startNodeService(d: ServeDeps, intervalMs = HEARTBEAT_INTERVAL_MS): Promise<Service> {
  const log = d.log.child("nodes");
  const name = d.config.nodeId;
  const bootId = crypto.randomUUID();
  let registered = false;
  let replacedWarned = false;

  const register = async () => {
    const { previous } = await registerNode(d.sql, {
      name,
      bootId,
      version: JUMPHOST_VERSION,
      sshListen: d.config.sshListen.map(fmt),
      rdpListen: d.config.rdpListen.map(fmt),
      webListen: d.config.webListen.map(fmt),
      nodeNow: new Date(),
    });
    registered = true;
    if (previous?.state === "up" && previous.heartbeat_age_ms < 2 * intervalMs) {
      // a restart within a beat is normal (systemd); another live process under this name is not
      log.warn("this node name was beating a moment ago: is another serve using the same node_id?", {
        node: name,
      });
    }
    log.info("node registered", { node: name, boot_id: bootId, version: JUMPHOST_VERSION });
  };

  const beat = async () => {
    if (!registered) await register();
    const r = await beatNode(d.sql, name, bootId, new Date());
    if (r.kind === "was_lost") {
      const ended = await sessionsClosedAsLost(d.sql, name, r.lostAt);
      log.error("this node had been declared lost; ending the sessions closed under it", {
        lost_by: r.lostBy,
        sessions: ended.length,
      });
      for (const id of ended) await notifySessionKill(d.sql, { session_id: id, actor: "system:node_lost" });
      await writeAudit(d.sql, {
        actor: "system",
        action: "node.returned",
        target: name,
        success: true,
        details: { lost_at: r.lostAt.toISOString(), lost_by: r.lostBy, sessions_ended: ended },
      }, name);
    } else if (r.kind === "replaced" || r.kind === "missing") {
      if (!replacedWarned) {
        log.error("another serve registered under this node name; this one no longer beats", { node: name });
        replacedWarned = true;
      }
      return;
    }
    for (const lost of await declareLostNodes(d.sql, name, d.config.nodeLostAfter)) {
      log.warn("node lost", {
        lost: lost.name,
        last_heartbeat: lost.heartbeat_at.toISOString(),
        sessions_closed: lost.sessions.length,
        conversions_requeued: lost.conversions.length,
      });
    }
  };

  let running: Promise<void> = Promise.resolve();
  const tick = () =>
    running = running.then(beat).catch((e) => {
      // the database may be away (app/db_watch.ts reports that): the next beat tries again
      log.debug("heartbeat failed", { error: (e as Error).message });
    });
  // a database away at this moment (serve started during an outage): the beats register once it is back
  await register().catch((e) => log.warn("cannot register this node yet", { error: (e as Error).message }));
  const timer = setInterval(tick, intervalMs);
  await tick();
  return {
    name: "nodes",
    async stop() {
      clearInterval(timer);
      await running;
      await markNodeStopped(d.sql, name, bootId).catch((e) =>
        log.warn("cannot mark this node stopped", { error: (e as Error).message })
      );
    },
  };
}
