// Keeps live RDP connections within their grant: each is re-decided when its grant ends (expiry) and
// whenever the access model changes (revoke, user disabled, policy deleted). A connection that is no
// longer allowed is terminated with the reason; the client is told through Set Error Info.
import type { Snapshot } from "../../policy/mod.ts";
import { readmit } from "./admission.ts";
import type { Clock } from "../../core/clock.ts";
import type { LiveConnection } from "./session_registry.ts";

export class Enforcer {
  #timers = new Map<LiveConnection, { until: number; cancel: () => void }>();

  constructor(
    private readonly clock: Clock,
    private readonly snapshots: { get(): Snapshot | null },
  ) {}

  track(c: LiveConnection): () => void {
    this.#arm(c);
    return () => {
      this.#timers.get(c)?.cancel();
      this.#timers.delete(c);
    };
  }

  /** Re-decide every tracked connection (after the snapshot changed). */
  recheckAll(): void {
    for (const c of [...this.#timers.keys()]) this.recheck(c);
  }

  recheck(c: LiveConnection): void {
    if (!this.#timers.has(c)) return;
    const now = this.clock.now();
    const snapshot = this.snapshots.get();
    if (!snapshot) {
      // the model cannot be read: a grant known to be over still ends (fail closed)
      if (now >= c.decision.validUntil.getTime()) {
        this.#end(c, "expired", "grant ended (policy store unavailable)");
      }
      return;
    }
    // the user admitted (proven, or the source's one user) must still be the one, with the same login
    const d = readmit(snapshot, {
      sourceIp: c.sourceIp,
      serverId: c.serverId,
      provenUser: c.provenUser,
      login: c.login,
      userId: c.decision.userId,
    }, new Date(now));
    if (!d.allowed) {
      // a weekly window closing ends the session like the grant ending: "expired", not "revoked"
      const ended = d.reason === "expired" || d.reason === "outside_schedule";
      this.#end(c, ended ? "expired" : "revoked", `${d.reason}: ${d.detail}`);
      return;
    }
    c.decision = d;
    this.#arm(c);
  }

  #arm(c: LiveConnection): void {
    const until = c.decision.validUntil.getTime();
    const t = this.#timers.get(c);
    if (t?.until === until) return;
    t?.cancel();
    this.#timers.set(c, { until, cancel: this.clock.setTimer(until, () => this.recheck(c)) });
  }

  #end(c: LiveConnection, reason: "expired" | "revoked", detail: string): void {
    this.#timers.get(c)?.cancel();
    this.#timers.delete(c);
    c.terminate(reason, detail);
  }
}
