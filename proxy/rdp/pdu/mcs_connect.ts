/**
 * MCS Connect Initial / Connect Response (T.125 section 7 part 2, BER) carrying the GCC Conference
 * Create Request/Response (MS-RDPBCGR 2.2.1.3, 2.2.1.4). Parse, re-encode, and the proxy rewrites.
 */
import {
  BER_BOOLEAN,
  BER_ENUMERATED,
  BER_INTEGER,
  BER_OCTET_STRING,
  BER_SEQUENCE,
  berEncodeLength,
  berExpect,
  berReadLength,
  berReadTag,
  berUint,
} from "./asn1.ts";
import { ensure } from "./errors.ts";
import {
  type DataBlock,
  encodeGcc,
  type GccEnvelope,
  parseGccConferenceCreateRequest,
  parseGccConferenceCreateResponse,
} from "./gcc.ts";
import { type ClientDataSummary, downgradeClientBlocks, summarizeClientBlocks } from "./gcc_client.ts";
import { type ServerDataSummary, setClientRequestedProtocols, summarizeServerBlocks } from "./gcc_server.ts";
import { ByteReader, concat } from "./reader.ts";
import { encodeX224Data, parseX224Data } from "./x224.ts";

const TAG_CONNECT_INITIAL = 0x7f65;
const TAG_CONNECT_RESPONSE = 0x7f66;

export interface DomainParameters {
  maxChannelIds: number;
  maxUserIds: number;
  maxTokenIds: number;
  numPriorities: number;
  minThroughput: number;
  maxHeight: number;
  maxMcsPduSize: number;
  protocolVersion: number;
}

/** Encoding details needed to re-emit the PDU byte-identically. */
interface BerWire {
  outerLengthWidth: number;
  /** BER of every field before userData, verbatim. */
  fields: Uint8Array;
  userDataLengthWidth: number;
  gcc: GccEnvelope;
}

export interface McsConnectInitial {
  callingDomainSelector: Uint8Array;
  calledDomainSelector: Uint8Array;
  upwardFlag: boolean;
  targetParameters: DomainParameters;
  minimumParameters: DomainParameters;
  maximumParameters: DomainParameters;
  /** Settings data blocks; `encodeMcsConnectInitial` re-encodes exactly these. */
  blocks: DataBlock[];
  /** Decoded view of `blocks` at parse time (core, security, channels, cluster, multitransport). */
  client: ClientDataSummary;
  wire: BerWire;
}

export interface McsConnectResponse {
  result: number;
  calledConnectId: number;
  domainParameters: DomainParameters;
  gccNodeId: number;
  gccResult: number;
  blocks: DataBlock[];
  /** Decoded view of `blocks` (core incl. clientRequestedProtocols, security, channel ids...). */
  server: ServerDataSummary;
  wire: BerWire;
}

function readDomainParameters(r: ByteReader, what: string): DomainParameters {
  const s = berExpect(r, BER_SEQUENCE, what);
  const i = (name: string) => berUint(s, BER_INTEGER, `${what}.${name}`);
  const p: DomainParameters = {
    maxChannelIds: i("maxChannelIds"),
    maxUserIds: i("maxUserIds"),
    maxTokenIds: i("maxTokenIds"),
    numPriorities: i("numPriorities"),
    minThroughput: i("minThroughput"),
    maxHeight: i("maxHeight"),
    maxMcsPduSize: i("maxMCSPDUsize"),
    protocolVersion: i("protocolVersion"),
  };
  s.expectEnd(what);
  return p;
}

/** Open the outer application tag; returns the reader over its contents and the length width. */
function openOuter(frame: Uint8Array, tag: number, what: string): [ByteReader, number] {
  const r = new ByteReader(parseX224Data(frame), what);
  ensure(berReadTag(r) === tag, "invalid", `${what}: wrong MCS connect tag`);
  const len = berReadLength(r);
  const body = r.sub(len.value, what);
  r.expectEnd(what);
  return [body, len.width];
}

function readUserData(body: ByteReader, what: string): [Uint8Array, number] {
  ensure(berReadTag(body) === BER_OCTET_STRING, "invalid", `${what}: userData is not an OCTET STRING`);
  const len = berReadLength(body);
  const gcc = body.bytesView(len.value, "userData");
  body.expectEnd(what);
  return [gcc, len.width];
}

export function parseMcsConnectInitial(frame: Uint8Array): McsConnectInitial {
  const [body, outerLengthWidth] = openOuter(frame, TAG_CONNECT_INITIAL, "mcs connect-initial");
  const callingDomainSelector = berExpect(body, BER_OCTET_STRING, "callingDomainSelector").rest().slice();
  const calledDomainSelector = berExpect(body, BER_OCTET_STRING, "calledDomainSelector").rest().slice();
  const up = berExpect(body, BER_BOOLEAN, "upwardFlag");
  ensure(up.length === 1, "invalid", "mcs connect-initial: upwardFlag is not one byte");
  const upwardFlag = up.u8() !== 0;
  const targetParameters = readDomainParameters(body, "targetParameters");
  const minimumParameters = readDomainParameters(body, "minimumParameters");
  const maximumParameters = readDomainParameters(body, "maximumParameters");
  const fields = body.bytes.slice(0, body.offset);
  const [gccBytes, userDataLengthWidth] = readUserData(body, "mcs connect-initial");
  const gcc = parseGccConferenceCreateRequest(gccBytes);
  return {
    callingDomainSelector,
    calledDomainSelector,
    upwardFlag,
    targetParameters,
    minimumParameters,
    maximumParameters,
    blocks: gcc.blocks,
    client: summarizeClientBlocks(gcc.blocks),
    wire: { outerLengthWidth, fields, userDataLengthWidth, gcc: gcc.envelope },
  };
}

export function parseMcsConnectResponse(frame: Uint8Array): McsConnectResponse {
  const [body, outerLengthWidth] = openOuter(frame, TAG_CONNECT_RESPONSE, "mcs connect-response");
  const result = berUint(body, BER_ENUMERATED, "result");
  const calledConnectId = berUint(body, BER_INTEGER, "calledConnectId");
  const domainParameters = readDomainParameters(body, "domainParameters");
  const fields = body.bytes.slice(0, body.offset);
  const [gccBytes, userDataLengthWidth] = readUserData(body, "mcs connect-response");
  const gcc = parseGccConferenceCreateResponse(gccBytes);
  return {
    result,
    calledConnectId,
    domainParameters,
    gccNodeId: gcc.nodeId,
    gccResult: gcc.result,
    blocks: gcc.blocks,
    server: summarizeServerBlocks(gcc.blocks),
    wire: { outerLengthWidth, fields, userDataLengthWidth, gcc: gcc.envelope },
  };
}

function encodeConnect(tag: number, wire: BerWire, blocks: DataBlock[]): Uint8Array {
  const gcc = encodeGcc(wire.gcc, blocks);
  const inner = concat(
    wire.fields,
    Uint8Array.of(BER_OCTET_STRING),
    berEncodeLength(gcc.length, wire.userDataLengthWidth),
    gcc,
  );
  const mcs = concat(
    Uint8Array.of(tag >> 8, tag & 0xff),
    berEncodeLength(inner.length, wire.outerLengthWidth),
    inner,
  );
  return encodeX224Data(mcs);
}

/** Whole TPKT frame from `ci.blocks` (other fields are re-emitted verbatim from `ci.wire`). */
export function encodeMcsConnectInitial(ci: Pick<McsConnectInitial, "blocks" | "wire">): Uint8Array {
  return encodeConnect(TAG_CONNECT_INITIAL, ci.wire, ci.blocks);
}

export function encodeMcsConnectResponse(cr: Pick<McsConnectResponse, "blocks" | "wire">): Uint8Array {
  return encodeConnect(TAG_CONNECT_RESPONSE, cr.wire, cr.blocks);
}

/**
 * Client -> server rewrite: clear GFX in earlyCapabilityFlags, drop CS_MULTITRANSPORT, clear
 * REDIRECTION_SUPPORTED, never 8 bpp, and (when given) CS_CORE.serverSelectedProtocol := the protocol
 * the backend selected; every length (GCC block, PER, BER, TPKT) recomputed.
 */
export function rewriteConnectInitial(frame: Uint8Array, serverSelectedProtocol?: number): Uint8Array {
  const ci = parseMcsConnectInitial(frame);
  return encodeMcsConnectInitial({
    wire: ci.wire,
    blocks: downgradeClientBlocks(ci.blocks, serverSelectedProtocol),
  });
}

/** Server -> client rewrite: SC_CORE.clientRequestedProtocols := the client's original X.224 value. */
export function rewriteConnectResponse(frame: Uint8Array, clientRequestedProtocols: number): Uint8Array {
  const cr = parseMcsConnectResponse(frame);
  return encodeMcsConnectResponse({
    wire: cr.wire,
    blocks: setClientRequestedProtocols(cr.blocks, clientRequestedProtocols),
  });
}

/**
 * Static channel id -> name, pairing the client's CS_NET order with SC_NET channelIdArray (ids map
 * by index, 2.2.1.4.4). The I/O channel is included as "I/O" and the message channel as "MCS_MSG".
 */
export function channelNames(client: ClientDataSummary, server: ServerDataSummary): Map<number, string> {
  const net = server.network!;
  ensure(
    net.channelIds.length === client.channels.length,
    "invalid",
    `SC_NET has ${net.channelIds.length} channel ids for ${client.channels.length} requested channels`,
  );
  const names = new Map<number, string>([[net.ioChannelId, "I/O"]]);
  if (server.messageChannelId !== null) names.set(server.messageChannelId, "MCS_MSG");
  client.channels.forEach((c, i) => names.set(net.channelIds[i], c.name));
  return names;
}
