// What a session did, for sessions.metadata: channels (exec commands, subsystems, PTYs), agent use,
// forwarded destinations, transferred files. Bounded so a busy session cannot grow it without limit.
import type { Transfer } from "./transfer_tap.ts";
import type { StreamName, StreamSummary } from "./stream_tap.ts";

const MAX_ITEMS = 500;

export interface ChannelInfo {
  n: number;
  type: "shell" | "exec" | "subsystem";
  command?: string;
  subsystem?: string;
  pty?: { term: string; cols: number; rows: number };
  recording?: string;
  /** a channel without a terminal: bytes and SHA-256 of each direction, and what the recording left out */
  streams?: Record<StreamName, StreamSummary>;
  exit?: { status?: number; signal?: string };
  started_at: string;
  ended_at?: string;
}

export interface ForwardInfo {
  kind: "direct" | "remote";
  host: string;
  port: number;
  allowed: boolean;
  count: number;
}

export type ForwardNote = "new" | "repeat" | "unlisted";

function cut(s: string, n = 1000): string {
  return s.length > n ? s.slice(0, n) + "…" : s;
}

export class SessionMetadata {
  route = "";
  jumpAuth = "";
  backendAuth = "";
  agentForwarded = false;
  agentUsed = false;
  channels: ChannelInfo[] = [];
  forwards = new Map<string, ForwardInfo>();
  transfers: Transfer[] = [];
  dropped = 0;
  /** forwards beyond the list's bound: audited one by one, only counted here */
  forwardsUnlisted = 0;
  notes: string[] = [];
  #n = 0;
  onChange: (() => void) | null = null;

  constructor(private readonly now: () => Date) {}

  #changed(): void {
    this.onChange?.();
  }

  addChannel(c: Omit<ChannelInfo, "n" | "started_at">): ChannelInfo {
    const info: ChannelInfo = {
      ...c,
      command: c.command === undefined ? undefined : cut(c.command),
      n: ++this.#n,
      started_at: this.now().toISOString(),
    };
    if (this.channels.length < MAX_ITEMS) this.channels.push(info);
    else this.dropped++;
    this.#changed();
    return info;
  }

  endChannel(info: ChannelInfo, exit: ChannelInfo["exit"], streams?: ChannelInfo["streams"]): void {
    info.exit = exit;
    if (streams) info.streams = streams;
    info.ended_at = this.now().toISOString();
    this.#changed();
  }

  /**
   * Notes a forward. "new": a destination (and verdict) not seen before in this session; "repeat": counted
   * on its entry; "unlisted": the list is full, so it is only counted (the caller audits it regardless).
   */
  forward(kind: ForwardInfo["kind"], host: string, port: number, allowed: boolean): ForwardNote {
    const key = `${kind}|${host}|${port}|${allowed}`;
    const f = this.forwards.get(key);
    if (f) {
      f.count++;
      this.#changed();
      return "repeat";
    }
    if (this.forwards.size >= MAX_ITEMS) {
      this.forwardsUnlisted++;
      this.#changed();
      return "unlisted";
    }
    this.forwards.set(key, { kind, host: cut(host, 255), port, allowed, count: 1 });
    this.#changed();
    return "new";
  }

  transfer(t: Transfer): void {
    if (this.transfers.length < MAX_ITEMS) this.transfers.push({ ...t, path: cut(t.path, 1024) });
    else this.dropped++;
    this.#changed();
  }

  note(text: string): void {
    if (this.notes.length < 50) this.notes.push(cut(text, 300));
    this.#changed();
  }

  toJSON(): Record<string, unknown> {
    return {
      route: this.route,
      jump_auth: this.jumpAuth,
      backend_auth: this.backendAuth,
      agent_forwarded: this.agentForwarded,
      agent_used: this.agentUsed,
      channels: this.channels,
      forwards: [...this.forwards.values()],
      transfers: this.transfers,
      ...(this.dropped ? { dropped_items: this.dropped } : {}),
      ...(this.forwardsUnlisted ? { forwards_unlisted: this.forwardsUnlisted } : {}),
      ...(this.notes.length ? { notes: this.notes } : {}),
    };
  }
}
