/**
 * T.124 GCC Conference Create Request/Response envelopes (PER) around the RDP settings data blocks
 * (MS-RDPBCGR 2.2.1.3 / 2.2.1.4). The envelope bytes are kept verbatim; only lengths are recomputed.
 */
import { type EncodedLength, perEncodeLength, perReadLength } from "./asn1.ts";
import { ensure } from "./errors.ts";
import { ByteReader, ByteWriter, concat } from "./reader.ts";

/** ConnectData::Key object t124Identifier {0 0 20 124 0 1}, PER encoded. */
const T124_KEY = Uint8Array.of(0x00, 0x05, 0x00, 0x14, 0x7c, 0x00, 0x01);
const H221_CLIENT_KEY = "Duca";
const H221_SERVER_KEY = "McDn";

export interface DataBlock {
  /** User Data Header type, e.g. 0xC001 (CS_CORE), 0x0C03 (SC_NET). */
  type: number;
  /** Block contents without the 4-byte header. */
  data: Uint8Array;
}

export interface GccEnvelope {
  /** PER fields between the connectPDU length and the user data length (kept verbatim). */
  prefix: Uint8Array;
  /** connectPDU length as sent. Windows servers send a fixed wrong value; it is preserved if so. */
  connectPduLength: EncodedLength;
  connectPduLengthConsistent: boolean;
  userDataLengthWidth: number;
}

export interface GccConferenceCreateRequest {
  envelope: GccEnvelope;
  blocks: DataBlock[];
}

export interface GccConferenceCreateResponse {
  envelope: GccEnvelope;
  /** GCC node ID (the server's MCS user id, usually 1002). */
  nodeId: number;
  tag: number;
  result: number;
  blocks: DataBlock[];
}

function readKey(r: ByteReader): void {
  const key = r.bytesView(7, "t124 key");
  ensure(key.every((b, i) => b === T124_KEY[i]), "invalid", "gcc: not a T.124 ConnectData key");
}

function readH221(r: ByteReader, expected: string): void {
  ensure(r.u8("h221 choice") === 0xc0, "invalid", "gcc: expected h221NonStandard user data key");
  ensure(r.u8("h221 length") === 0, "invalid", "gcc: h221 key is not 4 bytes");
  const k = r.bytesView(4, "h221 key");
  ensure(String.fromCharCode(...k) === expected, "invalid", `gcc: h221 key is not ${expected}`);
}

function finishEnvelope(r: ByteReader, pduLen: EncodedLength, pduStart: number): [GccEnvelope, DataBlock[]] {
  const prefix = r.bytes.slice(pduStart, r.offset);
  const udLen = perReadLength(r);
  const blocks = parseDataBlocks(r.bytesView(udLen.value, "user data"));
  r.expectEnd("gcc user data");
  const envelope: GccEnvelope = {
    prefix,
    connectPduLength: pduLen,
    connectPduLengthConsistent: pduLen.value === r.length - pduStart,
    userDataLengthWidth: udLen.width,
  };
  return [envelope, blocks];
}

export function parseGccConferenceCreateRequest(gcc: Uint8Array): GccConferenceCreateRequest {
  const r = new ByteReader(gcc, "gcc CCrq");
  readKey(r);
  const pduLen = perReadLength(r);
  const start = r.offset;
  ensure(r.u8("choice") === 0x00, "invalid", "gcc: not a ConferenceCreateRequest");
  ensure(
    r.u8("selection") === 0x08,
    "unsupported",
    "gcc: unexpected optional fields in ConferenceCreateRequest",
  );
  const digits = r.u8("conferenceName length") + 1;
  r.skip(Math.ceil(digits / 2), "conferenceName");
  r.u8("flags/terminationMethod");
  ensure(r.u8("userData set count") === 1, "unsupported", "gcc: expected exactly one user data set");
  readH221(r, H221_CLIENT_KEY);
  const [envelope, blocks] = finishEnvelope(r, pduLen, start);
  return { envelope, blocks };
}

export function parseGccConferenceCreateResponse(gcc: Uint8Array): GccConferenceCreateResponse {
  const r = new ByteReader(gcc, "gcc CCrsp");
  readKey(r);
  const pduLen = perReadLength(r);
  const start = r.offset;
  ensure(r.u8("choice") === 0x14, "invalid", "gcc: not a ConferenceCreateResponse");
  const nodeId = r.u16be("nodeID") + 1001;
  const tagLen = r.u8("tag length");
  ensure(tagLen >= 1 && tagLen <= 4, "invalid", "gcc: tag length");
  let tag = 0;
  for (let i = 0; i < tagLen; i++) tag = tag * 256 + r.u8("tag");
  const result = r.u8("result");
  ensure(r.u8("userData set count") === 1, "unsupported", "gcc: expected exactly one user data set");
  readH221(r, H221_SERVER_KEY);
  const [envelope, blocks] = finishEnvelope(r, pduLen, start);
  return { envelope, nodeId, tag, result, blocks };
}

/** Re-encode either envelope around `blocks` with every length recomputed. */
export function encodeGcc(envelope: GccEnvelope, blocks: DataBlock[]): Uint8Array {
  const userData = encodeDataBlocks(blocks);
  const pdu = concat(
    envelope.prefix,
    perEncodeLength(userData.length, envelope.userDataLengthWidth),
    userData,
  );
  const pduLen = envelope.connectPduLengthConsistent
    ? perEncodeLength(pdu.length, envelope.connectPduLength.width)
    : perEncodeLength(envelope.connectPduLength.value, envelope.connectPduLength.width);
  return concat(T124_KEY, pduLen, pdu);
}

export function parseDataBlocks(b: Uint8Array): DataBlock[] {
  const r = new ByteReader(b, "gcc blocks");
  const blocks: DataBlock[] = [];
  while (r.remaining > 0) {
    const type = r.u16le("block type");
    const length = r.u16le("block length");
    ensure(length >= 4, "invalid", `gcc: block 0x${type.toString(16)} length ${length} < 4`);
    blocks.push({ type, data: r.take(length - 4, `block 0x${type.toString(16)}`) });
  }
  return blocks;
}

export function encodeDataBlocks(blocks: DataBlock[]): Uint8Array {
  const w = new ByteWriter(512);
  for (const b of blocks) {
    w.u16le(b.type, "block type").u16le(b.data.length + 4, "block length").bytes(b.data);
  }
  return w.finish();
}
