// Session channels: PTY, env, agent forwarding, shell/exec/subsystem, window changes, signals, EOF and
// exit status, relayed to a matching backend channel (channel_relay.ts). Every channel is recorded except file transfers:
// SFTP/SCP file names and sizes are noted in the session metadata.
import { RecordingError } from "../../recorder/asciicast.ts";
import type { ProxySession, Recording } from "./session.ts";
import type { ClientChannel, PtyInfo, ServerChannel, ServerSession } from "./ssh2_types.ts";
import { parseScpCommand } from "./scp_tap.ts";
import { StreamTap } from "./stream_tap.ts";
import { ChannelFileKeeper } from "./file_keep.ts";
import { keepFilesCapForServer } from "../../db/file_keeping.ts";
import { backendFailureText } from "./texts.ts";
import { BackendError } from "./upstream.ts";
import { type ChannelEnd, ChannelRelay, watchEnd } from "./channel_relay.ts";

const MAX_ENV = 64;
/** per direction of a channel without a terminal, what its recording keeps (config stream_recording_max_mib) */
const DEFAULT_STREAM_KEEP = 64 * 2 ** 20;
/** signals a client sends before the backend channel is open wait for it (a few; more are dropped) */
const MAX_EARLY_SIGNALS = 8;

type Kind = "shell" | "exec" | "subsystem";

export function handleSessionChannel(s: ProxySession, session: ServerSession): void {
  let pty: PtyInfo | null = null;
  const env: Record<string, string> = {};
  let agent = false;
  let relay: ChannelRelay | null = null;
  const earlySignals: string[] = [];
  // the client may close the channel before the backend channel is open
  let closed = false;
  session.on("close", () => closed = true);

  session.on("auth-agent", (accept) => {
    agent = true;
    s.agentForwarded = true;
    s.meta.agentForwarded = true;
    accept?.();
  });
  session.on("pty", (accept, _reject, info) => {
    pty = info;
    accept?.();
  });
  session.on("env", (accept, reject, info) => {
    if (Object.keys(env).length >= MAX_ENV || info.key.length > 256 || info.val.length > 4096) {
      return reject?.();
    }
    env[info.key] = info.val;
    accept?.();
  });
  session.on("window-change", (accept, _reject, info) => {
    if (pty) pty = { ...pty, ...info };
    relay?.resize(info);
    accept?.();
  });
  session.on("signal", (accept, _reject, info) => {
    // exec is accepted before the backend channel opens (see start()), so a prompt signal must wait
    if (relay) relay.signal(info.name);
    else if (earlySignals.length < MAX_EARLY_SIGNALS) earlySignals.push(info.name);
    accept?.();
  });
  session.on("x11", (_accept, reject) => reject?.());

  // The request is accepted at once: OpenSSH sends stdin (or the SFTP init) right after `exec`/`subsystem`
  // without waiting for the reply, and ssh2 drops data for a channel it has not accepted yet. Until the
  // backend channel is open the client's data waits in the channel's buffer (ssh2 withholds the window).
  const start = (kind: Kind, accept: () => ServerChannel, reject: () => void, arg: string): void => {
    if (s.ended || closed) return reject();
    const ch = accept();
    if (!ch) return;
    // stream errors of one channel (a write racing its close) must never reach the process
    ch.on(
      "error",
      (e: Error) => s.rt.deps.log.debug("client channel error", { ref: s.id, error: e.message }),
    );
    ch.stderr.on(
      "error",
      (e: Error) => s.rt.deps.log.debug("client stderr error", { ref: s.id, error: e.message }),
    );
    void connect(kind, ch, arg).catch((e) => {
      s.rt.deps.log.error("channel setup failed", { ref: s.id, error: (e as Error).message });
      failChannel(ch, "jumphost: internal error.\r\n");
    });
  };

  const connect = async (kind: Kind, ch: ServerChannel, arg: string): Promise<void> => {
    let backend;
    try {
      backend = await s.backendForChannel();
    } catch (e) {
      const code = e instanceof BackendError ? e.code : "db_unavailable";
      failChannel(
        ch,
        code === "db_unavailable"
          ? "jumphost: the service is temporarily unavailable; try again later.\r\n"
          : backendFailureText(
            s.server,
            code,
            s.identity.passwordWithheld
              ? "withheld"
              : s.identity.method === "password" || s.identity.method === "keyboard-interactive"
              ? "passed"
              : "none",
          ),
      );
      // nothing else can work without a backend
      s.terminateAfter(100, "error", `backend: ${(e as Error).message}`);
      return;
    }
    if (s.ended || closed) return failChannel(ch, "");
    const ptyOpts = pty ? { ...pty } : null;
    const agentForward = agent;
    // A short command's exit-status can arrive in the same read as the reply to exec, or while the
    // recording below is being opened: ssh2 emits "exit" once, so it is watched from the callback on
    // (a listener added after an await would miss it, and the client would get 255).
    let end: ChannelEnd | null = null;
    const bch = await new Promise<ClientChannel | Error>((resolve) => {
      const cb = (err: Error | undefined, c: ClientChannel) => {
        if (!err) end = watchEnd(c);
        resolve(err ?? c);
      };
      try {
        if (kind === "shell") backend.client.shell(ptyOpts ?? false, { env, agentForward }, cb);
        else if (kind === "exec") {
          backend.client.exec(arg, { env, pty: ptyOpts ?? undefined, agentForward }, cb);
        } else backend.client.subsys(arg, cb);
      } catch (e) {
        resolve(e as Error);
      }
    });
    if (bch instanceof Error) {
      s.meta.note(`backend refused ${kind} ${arg.slice(0, 100)}: ${bch.message}`);
      return failChannel(ch, `jumphost: ${s.server} refused the ${kind} request.\r\n`);
    }
    if (closed) return bch.close();
    // recorded: every channel but file transfers (scp, SFTP: their files are listed and hashed instead);
    // a terminal as the user saw it, a channel without one as its three streams (see stream_tap.ts)
    const terminal = ptyOpts !== null && kind !== "subsystem";
    const scp = kind === "exec" ? parseScpCommand(arg) : null;
    const recorded = !scp && !(kind === "subsystem" && arg === "sftp");
    let rec: Recording | null = null;
    if (recorded) {
      try {
        rec = await s.startRecording(
          kind === "shell" ? "shell" : kind === "exec" ? `exec: ${arg.slice(0, 200)}` : `subsystem: ${arg}`,
          ptyOpts ?? { cols: 80, rows: 24, term: "" },
          !terminal,
        );
      } catch (e) {
        // fail closed by default: no session without its recording; a database error (the recordings row)
        // always refuses
        const message = (e as Error).message;
        if (!(e instanceof RecordingError)) {
          s.rt.deps.log.error("cannot start recording", { ref: s.id, error: message });
        }
        if (!(e instanceof RecordingError) || !s.recordingFailed(message, true)) {
          bch.close();
          return failChannel(ch, "jumphost: the session cannot be recorded, so it is refused.\r\n");
        }
      }
    }
    // the server's group may keep the transferred files themselves (content-addressed, capped per file)
    let keeper: ChannelFileKeeper | null = null;
    if (scp || (kind === "subsystem" && arg === "sftp")) {
      try {
        const cap = await keepFilesCapForServer(s.rt.deps.sql, s.identity.server.id);
        if (cap !== null) {
          keeper = new ChannelFileKeeper(
            s.rt.deps.recordingsDir,
            cap,
            (e) => s.recordingFailed(`cannot keep a transferred file: ${e.message}`),
            s.rt.deps.recordingEncryption ?? null,
          );
        }
      } catch (e) {
        // fail closed: whether the files must be kept cannot be told
        s.rt.deps.log.error("cannot read the keep-files setting", { ref: s.id, error: (e as Error).message });
        bch.close();
        return failChannel(ch, "jumphost: the service is temporarily unavailable; try again later.\r\n");
      }
    }
    const info = s.meta.addChannel({
      type: kind,
      command: kind === "exec" ? arg : undefined,
      subsystem: kind === "subsystem" ? arg : undefined,
      pty: ptyOpts ? { term: ptyOpts.term, cols: ptyOpts.cols, rows: ptyOpts.rows } : undefined,
      recording: rec?.path,
    });
    if (kind === "subsystem") s.setSubsystem(arg);
    else if (scp) s.setSubsystem("scp");
    const streams = rec && !terminal ? new StreamTap(s.rt.deps.streamKeepBytes ?? DEFAULT_STREAM_KEEP) : null;
    relay = new ChannelRelay(
      s,
      ch,
      bch,
      info,
      rec,
      terminal,
      kind === "shell" && terminal,
      end!,
      streams,
      keeper,
    );
    if (kind === "subsystem" && arg === "sftp") relay.tapSftp();
    if (scp) relay.tapScp(scp.direction, scp.path, scp.targetIsDir);
    relay.run();
    for (const name of earlySignals.splice(0)) relay.signal(name);
    if (ptyOpts && pty && (pty.cols !== ptyOpts.cols || pty.rows !== ptyOpts.rows)) relay.resize(pty);
  };

  session.on("shell", (accept, reject) => void start("shell", accept, reject, ""));
  session.on("exec", (accept, reject, info) => void start("exec", accept, reject, info.command));
  session.on("subsystem", (accept, reject, info) => void start("subsystem", accept, reject, info.name));
}

/** What the backend channel said about its end, from the moment it opened. */
function failChannel(ch: ServerChannel, text: string): void {
  if (!ch.writable) return;
  try {
    if (text && ch.stderr.writable) ch.stderr.write(text);
    ch.exit(255);
    ch.end();
  } catch (_e) {
    // the channel closed under us: nothing left to tell
  }
}
