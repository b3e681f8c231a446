/** Minimal MS-RDPEFS parsing for audit: announced devices and the paths opened on redirected drives. */
import { ensure } from "./errors.ts";
import { ByteReader, decodeAsciiz, decodeUtf16z } from "./reader.ts";

export const RDPDR_CTYP_CORE = 0x4472;
export const PAKID_CORE_DEVICELIST_ANNOUNCE = 0x4441;
export const PAKID_CORE_DEVICE_IOREQUEST = 0x4952;
export const PAKID_CORE_DEVICE_IOCOMPLETION = 0x4943;

export const RDPDR_DTYP_SERIAL = 0x01;
export const RDPDR_DTYP_PARALLEL = 0x02;
export const RDPDR_DTYP_PRINT = 0x04;
export const RDPDR_DTYP_FILESYSTEM = 0x08;
export const RDPDR_DTYP_SMARTCARD = 0x20;

export const IRP_MJ_CREATE = 0x0;
export const IRP_MJ_CLOSE = 0x2;
export const IRP_MJ_READ = 0x3;
export const IRP_MJ_WRITE = 0x4;

const MAX_DEVICES = 1024;

export interface RdpdrPdu {
  component: number;
  packetId: number;
  data: Uint8Array;
}

/** One reassembled rdpdr channel message. */
export function parseRdpdrPdu(message: Uint8Array): RdpdrPdu {
  const r = new ByteReader(message, "rdpdr");
  return { component: r.u16le("Component"), packetId: r.u16le("PacketId"), data: r.rest() };
}

export interface AnnouncedDevice {
  deviceType: number;
  deviceId: number;
  /** PreferredDosName, e.g. "C:" or "HOME". */
  dosName: string;
  /** For drives the full drive name from DeviceData (FreeRDP: ASCII; Windows: UTF-16). */
  displayName: string;
}

export function parseDeviceListAnnounce(pdu: RdpdrPdu): AnnouncedDevice[] {
  ensure(
    pdu.component === RDPDR_CTYP_CORE && pdu.packetId === PAKID_CORE_DEVICELIST_ANNOUNCE,
    "invalid",
    "rdpdr: not a Device List Announce",
  );
  const r = new ByteReader(pdu.data, "device list announce");
  const count = r.u32le("DeviceCount");
  ensure(count <= MAX_DEVICES, "too_large", `rdpdr: ${count} devices`);
  const devices: AnnouncedDevice[] = [];
  for (let i = 0; i < count; i++) {
    const deviceType = r.u32le("DeviceType");
    const deviceId = r.u32le("DeviceId");
    const dosName = decodeAsciiz(r.bytesView(8, "PreferredDosName"));
    const deviceData = r.bytesView(r.u32le("DeviceDataLength"), "DeviceData");
    const displayName = deviceType === RDPDR_DTYP_FILESYSTEM ? decodeName(deviceData) : "";
    devices.push({ deviceType, deviceId, dosName, displayName });
  }
  return devices;
}

/** UTF-16LE when it looks like it (every odd byte of a short name zero), else single-byte text. */
function decodeName(b: Uint8Array): string {
  const utf16 = b.length >= 2 && b.length % 2 === 0 && b[1] === 0 && b[0] !== 0;
  return utf16 ? decodeUtf16z(b) : decodeAsciiz(b);
}

export interface DeviceIoRequest {
  deviceId: number;
  fileId: number;
  completionId: number;
  majorFunction: number;
  minorFunction: number;
  create?: {
    desiredAccess: number;
    allocationSize: number;
    fileAttributes: number;
    sharedAccess: number;
    createDisposition: number;
    createOptions: number;
    path: string;
  };
  /** IRP_MJ_READ / IRP_MJ_WRITE. */
  io?: { length: number; offset: number };
}

export function parseDeviceIoRequest(pdu: RdpdrPdu): DeviceIoRequest {
  ensure(
    pdu.component === RDPDR_CTYP_CORE && pdu.packetId === PAKID_CORE_DEVICE_IOREQUEST,
    "invalid",
    "rdpdr: not a Device I/O Request",
  );
  const r = new ByteReader(pdu.data, "device io request");
  const req: DeviceIoRequest = {
    deviceId: r.u32le("DeviceId"),
    fileId: r.u32le("FileId"),
    completionId: r.u32le("CompletionId"),
    majorFunction: r.u32le("MajorFunction"),
    minorFunction: r.u32le("MinorFunction"),
  };
  if (req.majorFunction === IRP_MJ_CREATE) {
    const desiredAccess = r.u32le("DesiredAccess");
    const allocationSize = r.u64le("AllocationSize");
    const fileAttributes = r.u32le("FileAttributes");
    const sharedAccess = r.u32le("SharedAccess");
    const createDisposition = r.u32le("CreateDisposition");
    const createOptions = r.u32le("CreateOptions");
    const pathLength = r.u32le("PathLength");
    const path = decodeUtf16z(r.bytesView(pathLength, "Path"));
    req.create = {
      desiredAccess,
      allocationSize,
      fileAttributes,
      sharedAccess,
      createDisposition,
      createOptions,
      path,
    };
  } else if (req.majorFunction === IRP_MJ_READ || req.majorFunction === IRP_MJ_WRITE) {
    req.io = { length: r.u32le("Length"), offset: r.u64le("Offset") };
  }
  return req;
}
