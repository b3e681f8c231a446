/** Server settings data blocks (MS-RDPBCGR 2.2.1.4.2 - 2.2.1.4.6). */
import { ensure } from "./errors.ts";
import type { DataBlock } from "./gcc.ts";
import { ByteReader, ByteWriter, patchU32le } from "./reader.ts";

export const SC_CORE = 0x0c01;
export const SC_SECURITY = 0x0c02;
export const SC_NET = 0x0c03;
export const SC_MCS_MSGCHANNEL = 0x0c04;
export const SC_MULTITRANSPORT = 0x0c08;

export interface ServerCoreData {
  version: number;
  clientRequestedProtocols?: number;
  earlyCapabilityFlags?: number;
}

export function parseServerCore(data: Uint8Array): ServerCoreData {
  const r = new ByteReader(data, "SC_CORE");
  const core: ServerCoreData = { version: r.u32le("version") };
  if (r.remaining >= 4) core.clientRequestedProtocols = r.u32le();
  if (r.remaining >= 4) core.earlyCapabilityFlags = r.u32le();
  return core;
}

export interface ServerSecurityData {
  encryptionMethod: number;
  encryptionLevel: number;
  /** Present only with standard RDP security (method and level non-zero). */
  serverRandom?: Uint8Array;
  serverCertificate?: Uint8Array;
}

export function parseServerSecurity(data: Uint8Array): ServerSecurityData {
  const r = new ByteReader(data, "SC_SECURITY");
  const sec: ServerSecurityData = {
    encryptionMethod: r.u32le("encryptionMethod"),
    encryptionLevel: r.u32le(),
  };
  if (sec.encryptionMethod !== 0 || sec.encryptionLevel !== 0) {
    const randomLen = r.u32le("serverRandomLen");
    const certLen = r.u32le("serverCertLen");
    ensure(randomLen <= 64 && certLen <= 0x4000, "too_large", "SC_SECURITY: random/cert length");
    sec.serverRandom = r.take(randomLen, "serverRandom");
    sec.serverCertificate = r.take(certLen, "serverCertificate");
  }
  return sec;
}

export interface ServerNetworkData {
  /** The MCS I/O channel (usually 1003). */
  ioChannelId: number;
  /** channelIds[i] is the id of the i-th channel of the client's CS_NET. */
  channelIds: number[];
}

export function parseServerNetwork(data: Uint8Array): ServerNetworkData {
  const r = new ByteReader(data, "SC_NET");
  const ioChannelId = r.u16le("MCSChannelId");
  const count = r.u16le("channelCount");
  ensure(count <= 31, "too_large", `SC_NET: ${count} channels`);
  const channelIds: number[] = [];
  for (let i = 0; i < count; i++) channelIds.push(r.u16le("channelId"));
  if (count % 2 === 1 && r.remaining >= 2) r.skip(2, "pad");
  r.expectEnd("channelIdArray");
  return { ioChannelId, channelIds };
}

export interface ServerDataSummary {
  core: ServerCoreData | null;
  security: ServerSecurityData | null;
  network: ServerNetworkData | null;
  messageChannelId: number | null;
  multitransport: { flags: number } | null;
}

export function summarizeServerBlocks(blocks: DataBlock[]): ServerDataSummary {
  const out: ServerDataSummary = {
    core: null,
    security: null,
    network: null,
    messageChannelId: null,
    multitransport: null,
  };
  for (const b of blocks) {
    if (b.type === SC_CORE) out.core = parseServerCore(b.data);
    else if (b.type === SC_SECURITY) out.security = parseServerSecurity(b.data);
    else if (b.type === SC_NET) out.network = parseServerNetwork(b.data);
    else if (b.type === SC_MCS_MSGCHANNEL) {
      out.messageChannelId = new ByteReader(b.data, "SC_MCS_MSGCHANNEL").u16le();
    } else if (b.type === SC_MULTITRANSPORT) {
      out.multitransport = { flags: new ByteReader(b.data, "SC_MT").u32le() };
    }
  }
  ensure(out.core !== null, "invalid", "server data: no SC_CORE block");
  ensure(out.network !== null, "invalid", "server data: no SC_NET block");
  return out;
}

/**
 * Set SC_CORE.clientRequestedProtocols (2.2.1.4.2 says it MUST equal the client's X.224 value, so
 * the proxy restores what the client asked for). Appends the field if the server omitted it.
 */
export function setClientRequestedProtocols(blocks: DataBlock[], value: number): DataBlock[] {
  summarizeServerBlocks(blocks);
  return blocks.map((b) => {
    if (b.type !== SC_CORE) return b;
    if (b.data.length >= 8) {
      const data = b.data.slice();
      patchU32le(data, 4, value);
      return { type: b.type, data };
    }
    return { type: b.type, data: new ByteWriter(8).bytes(b.data.subarray(0, 4)).u32le(value).finish() };
  });
}
