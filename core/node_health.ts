// Pure: how healthy a registered node is, from its state and the age of its last heartbeat (measured on
// the database's clock), and what doctor says about the nodes as a cluster (clock skew, version mix).

/** How often a node beats (app/node_service.ts). */
export const HEARTBEAT_INTERVAL_MS = 5_000;
/** Default of `node_lost_after` (seconds): a beat older than this and the node is declared lost. */
export const DEFAULT_NODE_LOST_AFTER_S = 30;
/** Two missed beats: shown as late (still owning its sessions). */
export const LATE_AFTER_MS = 2 * HEARTBEAT_INTERVAL_MS;

export type NodeState = "up" | "stopped" | "lost";
/** ok: beating; late: missed beats; lost: declared lost, or due to be; stopped: stopped cleanly */
export type NodeHealth = "ok" | "late" | "lost" | "stopped";

export function nodeHealth(state: NodeState, heartbeatAgeMs: number, lostAfterMs: number): NodeHealth {
  if (state === "stopped") return "stopped";
  if (state === "lost" || heartbeatAgeMs >= lostAfterMs) return "lost";
  if (heartbeatAgeMs > Math.min(LATE_AFTER_MS, lostAfterMs / 2)) return "late";
  return "ok";
}

/** Clock skew beyond which doctor warns (TOTP tolerates 30 s; audit times should agree much better). */
export const SKEW_WARN_MS = 2_000;
/** … and fails: TOTP codes and grant ends would be judged differently on different nodes. */
export const SKEW_FAIL_MS = 30_000;

export interface ClusterNode {
  name: string;
  health: NodeHealth;
  version: string;
  /** the node's clock minus the database's at its last beat */
  clockSkewMs: number;
}

export interface ClusterFinding {
  status: "ok" | "warn" | "fail";
  check: "cluster nodes" | "cluster clocks" | "cluster versions";
  detail: string;
}

/** What doctor reports about the nodes that share the database (only live ones count for skew and versions). */
export function judgeCluster(nodes: ClusterNode[]): ClusterFinding[] {
  const live = nodes.filter((n) => n.health === "ok" || n.health === "late");
  const late = nodes.filter((n) => n.health === "late").map((n) => n.name);
  const lost = nodes.filter((n) => n.health === "lost").map((n) => n.name);
  const out: ClusterFinding[] = [];
  out.push({
    status: late.length + lost.length > 0 ? "warn" : "ok",
    check: "cluster nodes",
    detail: nodes.length === 0
      ? "no node has registered (serve not started yet)"
      : `${live.length} live of ${nodes.length}` + (late.length ? `; late: ${late.join(", ")}` : "") +
        (lost.length ? `; lost: ${lost.join(", ")}` : ""),
  });
  const worst = live.reduce<ClusterNode | null>(
    (w, n) => (w === null || Math.abs(n.clockSkewMs) > Math.abs(w.clockSkewMs) ? n : w),
    null,
  );
  if (worst === null) {
    out.push({ status: "ok", check: "cluster clocks", detail: "no live node to compare" });
  } else {
    const skew = Math.abs(worst.clockSkewMs);
    const detail = `largest offset from the database clock: ${worst.name} ${
      worst.clockSkewMs >= 0 ? "+" : "-"
    }${(skew / 1000).toFixed(1)} s`;
    out.push({
      status: skew >= SKEW_FAIL_MS ? "fail" : skew >= SKEW_WARN_MS ? "warn" : "ok",
      check: "cluster clocks",
      detail: skew >= SKEW_WARN_MS ? `${detail} (run NTP on every node)` : detail,
    });
  }
  const versions = new Map<string, string[]>();
  for (const n of live) versions.set(n.version, [...(versions.get(n.version) ?? []), n.name]);
  out.push(
    versions.size <= 1
      ? { status: "ok", check: "cluster versions", detail: [...versions.keys()][0] ?? "no live node" }
      : {
        status: "warn",
        check: "cluster versions",
        detail: "mixed: " +
          [...versions].map(([v, names]) => `${v} (${names.join(", ")})`).join(", ") +
          " — finish the upgrade",
      },
  );
  return out;
}
