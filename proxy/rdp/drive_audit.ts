// Drive-redirection audit over reassembled rdpdr messages (MS-RDPEFS): which drives the client shares
// and which files the server opens, reads (upload to the server) or writes (download to the client).
// A create request is matched to the client's completion to learn the FileId that reads/writes use.
import {
  IRP_MJ_CLOSE,
  IRP_MJ_CREATE,
  IRP_MJ_READ,
  IRP_MJ_WRITE,
  PAKID_CORE_DEVICE_IOCOMPLETION,
  PAKID_CORE_DEVICE_IOREQUEST,
  PAKID_CORE_DEVICELIST_ANNOUNCE,
  parseDeviceIoRequest,
  parseDeviceListAnnounce,
  parseRdpdrPdu,
  RDPDR_CTYP_CORE,
  RDPDR_DTYP_FILESYSTEM,
} from "./pdu/mod.ts";
import { parseCreateResponseFileId, parseDeviceIoCompletion } from "./pdu/rdpdr_reply.ts";
import type { MetaEvent, Side } from "./meta_events.ts";

const FILE_DIRECTORY_FILE = 0x1;
/** Bounds on tracking state a hostile server could inflate. */
const MAX_PENDING = 1024;
const MAX_OPEN = 4096;

interface OpenFile {
  device: string;
  path: string;
  read: boolean;
  written: boolean;
}

export class DriveAudit {
  #devices = new Map<number, string>();
  #pending = new Map<number, { deviceId: number; path: string; directory: boolean }>();
  #files = new Map<string, OpenFile>();

  constructor(private readonly emit: (e: MetaEvent) => void, private readonly now: () => Date) {}

  message(from: Side, message: Uint8Array): void {
    const pdu = parseRdpdrPdu(message);
    if (pdu.component !== RDPDR_CTYP_CORE) return;
    if (from === "client" && pdu.packetId === PAKID_CORE_DEVICELIST_ANNOUNCE) {
      const devices = parseDeviceListAnnounce(pdu);
      for (const d of devices) this.#devices.set(d.deviceId, d.displayName || d.dosName);
      const drives = devices.filter((d) => d.deviceType === RDPDR_DTYP_FILESYSTEM);
      if (drives.length > 0) {
        this.emit({
          type: "drives",
          at: this.now().toISOString(),
          devices: drives.map((d) => ({
            id: d.deviceId,
            name: d.displayName || d.dosName,
            type: d.deviceType,
          })),
        });
      }
    } else if (from === "server" && pdu.packetId === PAKID_CORE_DEVICE_IOREQUEST) {
      this.#request(parseDeviceIoRequest(pdu));
    } else if (from === "client" && pdu.packetId === PAKID_CORE_DEVICE_IOCOMPLETION) {
      const c = parseDeviceIoCompletion(pdu);
      const p = this.#pending.get(c.completionId);
      if (!p || p.deviceId !== c.deviceId) return;
      this.#pending.delete(c.completionId);
      if (c.ioStatus !== 0 || p.directory) return;
      const fileId = parseCreateResponseFileId(c);
      const device = this.#devices.get(p.deviceId) ?? `device ${p.deviceId}`;
      if (this.#files.size < MAX_OPEN) {
        this.#files.set(`${p.deviceId}:${fileId}`, { device, path: p.path, read: false, written: false });
      }
      this.#event(device, p.path, "open");
    }
  }

  #request(req: ReturnType<typeof parseDeviceIoRequest>): void {
    if (!this.#devices.has(req.deviceId)) return;
    const key = `${req.deviceId}:${req.fileId}`;
    switch (req.majorFunction) {
      case IRP_MJ_CREATE:
        if (req.create && this.#pending.size < MAX_PENDING) {
          this.#pending.set(req.completionId, {
            deviceId: req.deviceId,
            path: req.create.path,
            directory: (req.create.createOptions & FILE_DIRECTORY_FILE) !== 0,
          });
        }
        break;
      case IRP_MJ_READ:
      case IRP_MJ_WRITE: {
        const f = this.#files.get(key);
        if (!f) break;
        if (req.majorFunction === IRP_MJ_READ && !f.read) {
          f.read = true;
          this.#event(f.device, f.path, "read");
        } else if (req.majorFunction === IRP_MJ_WRITE && !f.written) {
          f.written = true;
          this.#event(f.device, f.path, "write");
        }
        break;
      }
      case IRP_MJ_CLOSE:
        this.#files.delete(key);
        break;
    }
  }

  #event(device: string, path: string, action: "open" | "read" | "write"): void {
    this.emit({ type: "file", at: this.now().toISOString(), device, path, action });
  }
}
