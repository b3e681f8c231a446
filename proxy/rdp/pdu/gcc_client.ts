/** Client settings data blocks (MS-RDPBCGR 2.2.1.3.2 - 2.2.1.3.9) and the proxy's downgrade rewrite. */
import { ensure } from "./errors.ts";
import type { DataBlock } from "./gcc.ts";
import { ByteReader, decodeAsciiz, decodeUtf16z, patchU16le, patchU32le } from "./reader.ts";

export const CS_CORE = 0xc001;
export const CS_SECURITY = 0xc002;
export const CS_NET = 0xc003;
export const CS_CLUSTER = 0xc004;
export const CS_MONITOR = 0xc005;
export const CS_MCS_MSGCHANNEL = 0xc006;
export const CS_MONITOR_EX = 0xc008;
export const CS_MULTITRANSPORT = 0xc00a;

export const RNS_UD_COLOR_4BPP = 0xca00;
export const RNS_UD_COLOR_8BPP = 0xca01;
export const RNS_UD_COLOR_16BPP_565 = 0xca03;
export const RNS_UD_16BPP_SUPPORT = 0x0002;
export const RNS_UD_CS_SUPPORT_DYNVC_GFX_PROTOCOL = 0x0100;
export const REDIRECTION_SUPPORTED = 0x01;
export const MAX_STATIC_CHANNELS = 31;

/** Offsets inside CS_CORE data (after the 4-byte header). Optional fields start at 128. */
const O = {
  postBeta2ColorDepth: 128,
  highColorDepth: 136,
  supportedColorDepths: 138,
  earlyCapabilityFlags: 140,
  serverSelectedProtocol: 208,
} as const;

export interface ClientCoreData {
  version: number;
  desktopWidth: number;
  desktopHeight: number;
  /** Legacy colour depth (only 4/8 bpp values); ignored when later fields are present. */
  colorDepth: number;
  sasSequence: number;
  keyboardLayout: number;
  clientBuild: number;
  clientName: string;
  keyboardType: number;
  keyboardSubType: number;
  keyboardFunctionKey: number;
  imeFileName: string;
  postBeta2ColorDepth?: number;
  clientProductId?: number;
  serialNumber?: number;
  highColorDepth?: number;
  supportedColorDepths?: number;
  earlyCapabilityFlags?: number;
  clientDigProductId?: string;
  connectionType?: number;
  serverSelectedProtocol?: number;
  desktopPhysicalWidth?: number;
  desktopPhysicalHeight?: number;
  desktopOrientation?: number;
  desktopScaleFactor?: number;
  deviceScaleFactor?: number;
}

export function parseClientCore(data: Uint8Array): ClientCoreData {
  const r = new ByteReader(data, "CS_CORE");
  const core: ClientCoreData = {
    version: r.u32le("version"),
    desktopWidth: r.u16le("desktopWidth"),
    desktopHeight: r.u16le("desktopHeight"),
    colorDepth: r.u16le("colorDepth"),
    sasSequence: r.u16le("SASSequence"),
    keyboardLayout: r.u32le("keyboardLayout"),
    clientBuild: r.u32le("clientBuild"),
    clientName: decodeUtf16z(r.bytesView(32, "clientName")),
    keyboardType: r.u32le("keyboardType"),
    keyboardSubType: r.u32le("keyboardSubType"),
    keyboardFunctionKey: r.u32le("keyboardFunctionKey"),
    imeFileName: decodeUtf16z(r.bytesView(64, "imeFileName")),
  };
  // Each optional field may be present only if all the ones before it are (2.2.1.3.2).
  let done = false;
  const opt = <T>(n: number, read: () => T): T | undefined => {
    if (done || r.remaining < n) {
      done = true;
      return undefined;
    }
    return read();
  };
  core.postBeta2ColorDepth = opt(2, () => r.u16le());
  core.clientProductId = opt(2, () => r.u16le());
  core.serialNumber = opt(4, () => r.u32le());
  core.highColorDepth = opt(2, () => r.u16le());
  core.supportedColorDepths = opt(2, () => r.u16le());
  core.earlyCapabilityFlags = opt(2, () => r.u16le());
  core.clientDigProductId = opt(64, () => decodeUtf16z(r.bytesView(64)));
  core.connectionType = opt(1, () => r.u8());
  opt(1, () => r.u8()); // pad1octet
  core.serverSelectedProtocol = opt(4, () => r.u32le());
  core.desktopPhysicalWidth = opt(4, () => r.u32le());
  core.desktopPhysicalHeight = opt(4, () => r.u32le());
  core.desktopOrientation = opt(2, () => r.u16le());
  core.desktopScaleFactor = opt(4, () => r.u32le());
  core.deviceScaleFactor = opt(4, () => r.u32le());
  // A partial trailing field or bytes beyond the last known field are tolerated (future versions).
  for (const k of Object.keys(core) as (keyof ClientCoreData)[]) if (core[k] === undefined) delete core[k];
  return core;
}

export interface ClientSecurityData {
  encryptionMethods: number;
  extEncryptionMethods: number;
}

export function parseClientSecurity(data: Uint8Array): ClientSecurityData {
  const r = new ByteReader(data, "CS_SECURITY");
  return {
    encryptionMethods: r.u32le("encryptionMethods"),
    extEncryptionMethods: r.u32le("extEncryptionMethods"),
  };
}

export interface ChannelDef {
  name: string;
  options: number;
}

export function parseClientNetwork(data: Uint8Array): ChannelDef[] {
  const r = new ByteReader(data, "CS_NET");
  const count = r.u32le("channelCount");
  ensure(count <= MAX_STATIC_CHANNELS, "too_large", `CS_NET: ${count} channels`);
  const channels: ChannelDef[] = [];
  for (let i = 0; i < count; i++) {
    channels.push({
      name: decodeAsciiz(r.bytesView(8, "channel name")),
      options: r.u32le("channel options"),
    });
  }
  r.expectEnd("channelDefArray");
  return channels;
}

export interface ClientClusterData {
  flags: number;
  redirectedSessionId: number;
}

export function parseClientCluster(data: Uint8Array): ClientClusterData {
  const r = new ByteReader(data, "CS_CLUSTER");
  return { flags: r.u32le("flags"), redirectedSessionId: r.u32le("redirectedSessionID") };
}

export function parseClientMultitransport(data: Uint8Array): { flags: number } {
  return { flags: new ByteReader(data, "CS_MULTITRANSPORT").u32le("flags") };
}

export interface ClientDataSummary {
  core: ClientCoreData | null;
  security: ClientSecurityData | null;
  /** Static channels in request order; SC_NET channel ids map to these by index. */
  channels: ChannelDef[];
  cluster: ClientClusterData | null;
  multitransport: { flags: number } | null;
}

/** Decode the well-known blocks (each type at most once); unknown blocks are ignored here. */
export function summarizeClientBlocks(blocks: DataBlock[]): ClientDataSummary {
  const out: ClientDataSummary = {
    core: null,
    security: null,
    channels: [],
    cluster: null,
    multitransport: null,
  };
  const seen = new Set<number>();
  for (const b of blocks) {
    if (b.type >= 0xc001 && b.type <= 0xc00a) {
      ensure(!seen.has(b.type), "invalid", `client data: duplicate block 0x${b.type.toString(16)}`);
      seen.add(b.type);
    }
    if (b.type === CS_CORE) out.core = parseClientCore(b.data);
    else if (b.type === CS_SECURITY) out.security = parseClientSecurity(b.data);
    else if (b.type === CS_NET) out.channels = parseClientNetwork(b.data);
    else if (b.type === CS_CLUSTER) out.cluster = parseClientCluster(b.data);
    else if (b.type === CS_MULTITRANSPORT) out.multitransport = parseClientMultitransport(b.data);
  }
  ensure(out.core !== null, "invalid", "client data: no CS_CORE block");
  return out;
}

/**
 * The proxy downgrade (see shared/notes/rdp-mitm.md section 2): no GFX, no UDP multitransport, no
 * server redirection, no palette (8 bpp) sessions. Returns new blocks; input is not modified.
 *
 * `serverSelectedProtocol`: what the backend selected in its X.224 Connection Confirm. The client
 * wrote what the proxy selected for it; when the two legs differ (NLA towards the client, TLS towards
 * the backend or the other way round) the backend must see its own choice or it drops the connection.
 */
export function downgradeClientBlocks(blocks: DataBlock[], serverSelectedProtocol?: number): DataBlock[] {
  summarizeClientBlocks(blocks); // validates every known block first
  const out: DataBlock[] = [];
  for (const b of blocks) {
    if (b.type === CS_MULTITRANSPORT) continue; // dropped: client must not try UDP to the proxy
    const data = b.data.slice();
    if (b.type === CS_CORE) {
      downgradeCore(data);
      if (serverSelectedProtocol !== undefined) setServerSelectedProtocol(data, serverSelectedProtocol);
    }
    if (b.type === CS_CLUSTER) patchU32le(data, 0, parseClientCluster(data).flags & ~REDIRECTION_SUPPORTED);
    out.push({ type: b.type, data });
  }
  return out;
}

/** Older clients end CS_CORE before the field: then there is nothing for the backend to compare. */
function setServerSelectedProtocol(data: Uint8Array, protocol: number): void {
  if (parseClientCore(data).serverSelectedProtocol === undefined) return;
  patchU32le(data, O.serverSelectedProtocol, protocol);
}

function downgradeCore(data: Uint8Array): void {
  const core = parseClientCore(data);
  if (core.earlyCapabilityFlags !== undefined) {
    patchU16le(
      data,
      O.earlyCapabilityFlags,
      core.earlyCapabilityFlags & ~RNS_UD_CS_SUPPORT_DYNVC_GFX_PROTOCOL,
    );
  }
  // highColorDepth overrides postBeta2ColorDepth, which overrides colorDepth; fix the effective one.
  if (core.highColorDepth !== undefined) {
    if (core.highColorDepth < 15) {
      patchU16le(data, O.highColorDepth, 16);
      if (core.supportedColorDepths !== undefined) {
        patchU16le(data, O.supportedColorDepths, core.supportedColorDepths | RNS_UD_16BPP_SUPPORT);
      }
    }
  } else if (core.postBeta2ColorDepth !== undefined) {
    if (core.postBeta2ColorDepth === RNS_UD_COLOR_4BPP || core.postBeta2ColorDepth === RNS_UD_COLOR_8BPP) {
      patchU16le(data, O.postBeta2ColorDepth, RNS_UD_COLOR_16BPP_565);
    }
  } else {
    ensure(false, "unsupported", "CS_CORE: RDP 4.0 client limited to 8 bpp (palette sessions are refused)");
  }
}
