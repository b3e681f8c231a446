// The policy snapshot the proxy decides with: loaded at start, reloaded on `policy_changed` (and after a
// reconnect of the LISTEN connection). While the database cannot be read, snapshot() is null so new
// connections are refused; live sessions keep the last good snapshot for their re-checks.
import type { Sql } from "../../db/client.ts";
import { loadSnapshot } from "../../db/snapshot_load.ts";
import { listenPolicyChanged, type Unlisten } from "../../db/notify.ts";
import type { Snapshot } from "../../policy/mod.ts";
import type { Log } from "./runtime.ts";

export class PolicyState {
  #snap: Snapshot | null = null;
  #healthy = false;
  #loading: Promise<void> | null = null;
  #again = false;
  #listen: Unlisten | null = null;
  #retry: ReturnType<typeof setTimeout> | null = null;
  #stopped = false;

  constructor(
    private readonly sql: Sql,
    private readonly log: Log,
    private readonly onChange: (snap: Snapshot) => void,
  ) {}

  /** null while the database is unavailable (fail closed for new connections) */
  current(): Snapshot | null {
    return this.#healthy ? this.#snap : null;
  }

  /** the last snapshot loaded, even during an outage */
  lastGood(): Snapshot | null {
    return this.#snap;
  }

  async start(): Promise<void> {
    await this.#load();
    if (!this.#snap) throw new Error("cannot load the access policy from the database");
    this.#listen = await listenPolicyChanged(this.sql, () => this.reload());
  }

  /** Reloads now; calls during a load coalesce into one more load. */
  reload(): Promise<void> {
    if (this.#loading) {
      this.#again = true;
      return this.#loading;
    }
    this.#loading = (async () => {
      do {
        this.#again = false;
        await this.#load();
      } while (this.#again && !this.#stopped);
    })().finally(() => {
      this.#loading = null;
    });
    return this.#loading;
  }

  async #load(): Promise<void> {
    try {
      const snap = await loadSnapshot(this.sql);
      this.#snap = snap;
      this.#healthy = true;
      for (const w of snap.warnings) this.log.warn("policy warning", { warning: w });
      this.onChange(snap);
    } catch (e) {
      if (this.#healthy) {
        this.log.error("policy reload failed; refusing new connections", { error: (e as Error).message });
      }
      this.#healthy = false;
      if (!this.#stopped && this.#retry === null) {
        this.#retry = setTimeout(() => {
          this.#retry = null;
          void this.reload();
        }, 2000);
      }
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#retry !== null) clearTimeout(this.#retry);
    this.#retry = null;
    await this.#loading?.catch(() => {});
    await this.#listen?.unlisten().catch(() => {});
  }
}
