// An interactive terminal for e2e tests: a private tmux server running one command in a pane we can type
// into, read from and resize (window-change).
import { runCmd } from "./ssh_clients.ts";

export class Tmux {
  readonly socket: string;
  constructor(name: string) {
    this.socket = `jh-${name}-${crypto.randomUUID().slice(0, 8)}`;
  }

  async #tmux(...args: string[]): Promise<string> {
    const r = await runCmd("tmux", ["-L", this.socket, ...args], { env: { TERM: "xterm-256color" } });
    if (r.code !== 0) throw new Error(`tmux ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  }

  /** Starts `argv` in a detached window of the given size; the pane stays after the command exits. */
  async start(argv: string[], env: Record<string, string> = {}, cols = 100, rows = 30): Promise<void> {
    const quoted = argv.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
    const exports = Object.entries(env).map(([k, v]) => `${k}='${v.replaceAll("'", "'\\''")}'`).join(" ");
    await this.#tmux(
      "new-session",
      "-d",
      "-x",
      String(cols),
      "-y",
      String(rows),
      `${exports} ${quoted}; echo "[exit $?]"; sleep 600`,
    );
    await this.#tmux("set-option", "-g", "remain-on-exit", "on");
  }

  async type(text: string): Promise<void> {
    await this.#tmux("send-keys", "-l", text);
  }

  async keys(...keys: string[]): Promise<void> {
    await this.#tmux("send-keys", ...keys);
  }

  async screen(): Promise<string> {
    return await this.#tmux("capture-pane", "-p", "-J", "-S", "-200");
  }

  async resize(cols: number, rows: number): Promise<void> {
    await this.#tmux("resize-window", "-x", String(cols), "-y", String(rows));
  }

  /** Polls the pane until `re` matches (or throws with the screen after `timeoutMs`). */
  async waitFor(re: RegExp, timeoutMs = 10_000): Promise<string> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const s = await this.screen();
      if (re.test(s)) return s;
      if (Date.now() > until) throw new Error(`screen never matched ${re}:\n${s}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async kill(): Promise<void> {
    await runCmd("tmux", ["-L", this.socket, "kill-server"]);
  }
}
