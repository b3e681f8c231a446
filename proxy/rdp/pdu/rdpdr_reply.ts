/**
 * Device I/O completions (MS-RDPEFS 2.2.1.5, 2.2.1.5.1): the client's answer to an IRP_MJ_CREATE gives
 * the FileId later READ/WRITE requests use, which is how the proxy names the files they touch.
 */
import { ensure } from "./errors.ts";
import { ByteReader } from "./reader.ts";
import { PAKID_CORE_DEVICE_IOCOMPLETION, RDPDR_CTYP_CORE, type RdpdrPdu } from "./rdpdr.ts";

export interface DeviceIoCompletion {
  deviceId: number;
  completionId: number;
  /** NTSTATUS; 0 is STATUS_SUCCESS. */
  ioStatus: number;
  /** The rest of the reply; its layout depends on the request it answers. */
  body: Uint8Array;
}

export function parseDeviceIoCompletion(pdu: RdpdrPdu): DeviceIoCompletion {
  ensure(
    pdu.component === RDPDR_CTYP_CORE && pdu.packetId === PAKID_CORE_DEVICE_IOCOMPLETION,
    "invalid",
    "rdpdr: not a Device I/O Completion",
  );
  const r = new ByteReader(pdu.data, "device io completion");
  return {
    deviceId: r.u32le("DeviceId"),
    completionId: r.u32le("CompletionId"),
    ioStatus: r.u32le("IoStatus"),
    body: r.rest(),
  };
}

/** FileId of a DR_CREATE_RSP body (DeviceCreateResponse: FileId u32, Information u8 optional). */
export function parseCreateResponseFileId(c: DeviceIoCompletion): number {
  return new ByteReader(c.body, "device create response").u32le("FileId");
}
