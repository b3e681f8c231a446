// A refusal the user can read. An X.224 negotiation failure only says "security negotiation failed"
// (and FreeRDP then retries with other protocols); instead the proxy plays the server just far enough —
// TLS, MCS connect, attach user, channel joins — to answer the Client Info with Set Error Info
// (ERRINFO_SERVER_DENIED_CONNECTION …) and a disconnect, which clients show as a denial. No backend
// is involved; every step is bounded by one deadline.
import type net from "node:net";
import type tls from "node:tls";
import {
  type ConnectionRequest,
  encodeConnectionConfirm,
  encodeDisconnectProviderUltimatum,
  encodeMcsConnectResponse,
  encodeMcsFrame,
  encodeSetErrorInfoFrame,
  parseMcsConnectInitial,
  parseMcsConnectResponse,
  parseMcsFrame,
  PduStream,
  PROTOCOL_SSL,
  RN_PROVIDER_INITIATED,
  SC_CORE,
  SC_NET,
  SC_SECURITY,
  SEC_INFO_PKT,
  X224_DT,
  x224Type,
} from "./pdu/mod.ts";
import { ByteWriter } from "./pdu/reader.ts";
import { SPEC_CONNECT_RESPONSE } from "./pdu/fixtures_spec.ts";
import { acceptTls, writeAll } from "./handshake.ts";

const IO_CHANNEL = 1003;
const USER_CHANNEL = 1007;
/** A client that needs more frames than this before its Client Info is not refused politely. */
const MAX_FRAMES = 64;

/** An X.224 negotiation failure (standard-security clients, unreachable backends), then FIN. */
export async function refuseNegotiation(
  sock: net.Socket,
  cr: ConnectionRequest,
  failureCode: number,
): Promise<void> {
  await writeAll(
    sock,
    encodeConnectionConfirm({
      dstRef: cr.srcRef,
      srcRef: 0,
      classOptions: 0,
      negotiation: { type: "failure", failureCode },
    }),
  ).catch(() => {});
  sock.end();
}

/** Server settings for a session that will never start: no encryption (TLS), channels numbered 1004… */
function connectResponse(channelCount: number, clientRequestedProtocols: number): Uint8Array {
  // the MS-RDPBCGR 4.1.4 trace supplies the MCS/GCC envelope; only the settings blocks are ours
  const { wire } = parseMcsConnectResponse(SPEC_CONNECT_RESPONSE);
  const core = new ByteWriter(12).u32le(0x00080004).u32le(clientRequestedProtocols).u32le(0).finish();
  const security = new ByteWriter(8).u32le(0).u32le(0).finish();
  const net = new ByteWriter(8).u16le(IO_CHANNEL).u16le(channelCount);
  for (let i = 0; i < channelCount; i++) net.u16le(IO_CHANNEL + 1 + i);
  if (channelCount % 2 === 1) net.u16le(0);
  return encodeMcsConnectResponse({
    wire,
    blocks: [{ type: SC_CORE, data: core }, { type: SC_SECURITY, data: security }, {
      type: SC_NET,
      data: net.finish(),
    }],
  });
}

/**
 * Select TLS, then refuse after the Client Info with `errorInfo`. Resolves when the client got the
 * refusal or gave up; false when it could not be delivered (the caller just closes the socket).
 */
export async function refuseWithErrorInfo(
  sock: net.Socket,
  cr: ConnectionRequest,
  material: { cert: string; key: string },
  errorInfo: number,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  await writeAll(
    sock,
    encodeConnectionConfirm({
      dstRef: cr.srcRef,
      srcRef: 0x1234,
      classOptions: 0,
      negotiation: { type: "response", flags: 0, selectedProtocol: PROTOCOL_SSL },
    }),
  );
  const leg = await acceptTls(sock, material, timeoutMs);
  leg.stream.on("error", () => {});
  const requested = cr.negReq?.requestedProtocols ?? PROTOCOL_SSL;
  return await refuseInsideTls(leg.stream, requested, errorInfo, Math.max(0, deadline - Date.now()));
}

/**
 * The refusal on an established client TLS leg (after NLA, or when the backend failed after the
 * client's TLS): play the server up to the Client Info, then Set Error Info and a disconnect.
 */
export function refuseInsideTls(
  t: tls.TLSSocket,
  clientRequestedProtocols: number,
  errorInfo: number,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = AbortSignal.timeout(timeoutMs);
  const requested = clientRequestedProtocols;
  return new Promise<boolean>((resolve) => {
    const stream = new PduStream();
    let frames = 0;
    let connected = false;
    const finish = (ok: boolean) => {
      deadline.removeEventListener("abort", onTimeout);
      t.removeAllListeners("data");
      if (!ok) t.destroy();
      resolve(ok);
    };
    const onTimeout = () => finish(false);
    deadline.addEventListener("abort", onTimeout);
    t.once("close", () => finish(false));
    t.on("data", (chunk: Uint8Array) => {
      try {
        for (const f of stream.push(chunk)) {
          if (++frames > MAX_FRAMES || f.kind !== "tpkt" || x224Type(f.bytes) !== X224_DT) {
            return finish(false);
          }
          if (!connected) {
            const ci = parseMcsConnectInitial(f.bytes);
            t.write(connectResponse(ci.client.channels.length, requested));
            connected = true;
            continue;
          }
          const pdu = parseMcsFrame(f.bytes);
          if (pdu.type === "attachUserRequest") {
            t.write(encodeMcsFrame({ type: "attachUserConfirm", result: 0, initiator: USER_CHANNEL }));
          } else if (pdu.type === "channelJoinRequest") {
            t.write(encodeMcsFrame({
              type: "channelJoinConfirm",
              result: 0,
              initiator: pdu.initiator,
              requested: pdu.channelId,
              channelId: pdu.channelId,
            }));
          } else if (
            pdu.type === "sendDataRequest" && pdu.channelId === IO_CHANNEL && pdu.userData.length >= 2 &&
            (pdu.userData[0] & SEC_INFO_PKT) !== 0
          ) {
            t.write(encodeSetErrorInfoFrame({ errorInfo, channelId: IO_CHANNEL }));
            t.end(encodeDisconnectProviderUltimatum(RN_PROVIDER_INITIATED));
            // resolve once the client closed (or the deadline passed): destroying now could cut the PDUs
            t.removeAllListeners("close");
            t.once("close", () => finish(true));
            return;
          } else if (pdu.type === "disconnectProviderUltimatum") {
            return finish(false);
          }
        }
      } catch (_e) {
        // a malformed frame here only means the polite refusal is off; the connection was refused anyway
        finish(false);
      }
    });
    t.resume(); // the leg may have been paused after NLA
  });
}
