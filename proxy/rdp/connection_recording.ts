// The recording of one proxied RDP connection: its file (rdp/<day>/<session>-<n>.rdprec, + ".age" when
// encrypted at rest) and the taps that fill it. A recording that cannot be written ends the connection by
// default (fail closed, no unrecorded sessions); with on_recording_failure = continue the connection goes on
// unrecorded. Either way it is logged and audited.
import { join } from "node:path";
import type { TerminationReason } from "../../db/sessions.ts";
import type { Server } from "../../policy/mod.ts";
import { ConnectionTap } from "./connection_tap.ts";
import type { ProxyContext } from "./proxy_context.ts";
import { RecordingTap } from "./recording_tap.ts";
import type { LogicalSession } from "./session_registry.ts";

export interface ConnectionRecordingInput {
  session: LogicalSession;
  /** the connection's number within its logical session */
  index: number;
  server: Server;
  /** the jump user (asked when a failure is audited) */
  userName: () => string;
  source: { address: string; port: number };
  cookie: string | null;
  startedAt: Date;
  terminate: (reason: TerminationReason, detail: string) => void;
}

export function openConnectionRecording(
  p: ProxyContext,
  c: ConnectionRecordingInput,
): { recording: RecordingTap; tap: ConnectionTap } {
  const { session, server } = c;
  const day = c.startedAt.toISOString().slice(0, 10);
  const base = join(p.recordingsDir, "rdp", day, `${session.sessionId}-${c.index}.rdprec`);
  const recording = new RecordingTap(
    base,
    (msg) => {
      const disconnect = (p.onRecordingFailure ?? "disconnect") === "disconnect";
      p.log.error(
        disconnect
          ? "RDP recording failed; ending the connection"
          : "RDP recording failed; going on unrecorded",
        { session: session.sessionId, error: msg, path: recording.path },
      );
      p.audit({
        actor: c.userName(),
        action: "recording.failed",
        target: server.name,
        sourceIp: c.source.address,
        success: false,
        details: {
          protocol: "rdp",
          session: session.sessionId,
          path: recording.path,
          error: msg,
          on_recording_failure: disconnect ? "disconnect" : "continue",
        },
      });
      if (disconnect) c.terminate("error", msg);
    },
    undefined,
    p.recordingEncryption ?? null,
  );
  const tap = new ConnectionTap(
    {
      sessionId: session.sessionId,
      connection: c.index,
      source: c.source,
      target: { host: server.address, port: server.rdpPort },
      extra: { server: server.name, user: c.userName(), cookie: c.cookie },
    },
    recording,
    (e) => {
      session.summary.add(e);
      session.dirty = true;
    },
    (msg, fields) => p.log.warn(msg, { session: session.sessionId, ...fields }),
  );
  return { recording, tap };
}
