import assert from "node:assert/strict";
import { RdpParseError } from "./errors.ts";
import {
  IRP_MJ_CREATE,
  IRP_MJ_READ,
  parseDeviceIoRequest,
  parseDeviceListAnnounce,
  parseRdpdrPdu,
  RDPDR_DTYP_FILESYSTEM,
  RDPDR_DTYP_PRINT,
} from "./rdpdr.ts";
import { rdpdrDevice as device } from "./fixtures_built.ts";
import { ByteWriter, encodeUtf16, hex } from "./reader.ts";

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof RdpParseError, `not an RdpParseError: ${e}`);
    return e.code;
  }
  return "ok";
}

Deno.test("parseDeviceListAnnounce() names drives from ASCII or UTF-16 device data", () => {
  const body = new ByteWriter(128).u16le(0x4472).u16le(0x4441).u32le(3)
    .bytes(device(RDPDR_DTYP_FILESYSTEM, 1, "HOME", new TextEncoder().encode("home\0")))
    .bytes(device(RDPDR_DTYP_FILESYSTEM, 2, "C:", encodeUtf16("C: on LAPTOP\0")))
    .bytes(device(RDPDR_DTYP_PRINT, 3, "PRN1", new Uint8Array(24))).finish();
  assert.deepEqual(parseDeviceListAnnounce(parseRdpdrPdu(body)), [
    { deviceType: 8, deviceId: 1, dosName: "HOME", displayName: "home" },
    { deviceType: 8, deviceId: 2, dosName: "C:", displayName: "C: on LAPTOP" },
    { deviceType: 4, deviceId: 3, dosName: "PRN1", displayName: "" },
  ]);
});

Deno.test("parseDeviceIoRequest() extracts IRP_MJ_CREATE paths and read/write ranges", () => {
  const path = encodeUtf16("\\Documents\\secret.docx\0");
  const create = new ByteWriter(128).u16le(0x4472).u16le(0x4952)
    .u32le(1).u32le(0).u32le(7).u32le(IRP_MJ_CREATE).u32le(0)
    .u32le(0x00120089).u32le(0).u32le(0).u32le(0x80).u32le(0x7).u32le(1).u32le(0x60)
    .u32le(path.length).bytes(path).finish();
  assert.deepEqual(parseDeviceIoRequest(parseRdpdrPdu(create)), {
    deviceId: 1,
    fileId: 0,
    completionId: 7,
    majorFunction: 0,
    minorFunction: 0,
    create: {
      desiredAccess: 0x00120089,
      allocationSize: 0,
      fileAttributes: 0x80,
      sharedAccess: 7,
      createDisposition: 1,
      createOptions: 0x60,
      path: "\\Documents\\secret.docx",
    },
  });
  const read = new ByteWriter(64).u16le(0x4472).u16le(0x4952).u32le(1).u32le(5).u32le(8).u32le(IRP_MJ_READ)
    .u32le(0)
    .u32le(65536).u32le(0).u32le(1).zeros(20).finish();
  assert.deepEqual(parseDeviceIoRequest(parseRdpdrPdu(read)).io, { length: 65536, offset: 2 ** 32 });
});

Deno.test("rdpdr parsers reject wrong packets and truncated paths", () => {
  const cases: [string, () => unknown, string][] = [
    [
      "announce parser on io request",
      () => parseDeviceListAnnounce(parseRdpdrPdu(hex("72 44 52 49 00 00 00 00"))),
      "invalid",
    ],
    [
      "too many devices",
      () => parseDeviceListAnnounce(parseRdpdrPdu(hex("72 44 41 44 ff ff 00 00"))),
      "too_large",
    ],
    [
      "device data overruns",
      () =>
        parseDeviceListAnnounce(
          parseRdpdrPdu(
            hex("72 44 41 44 01 00 00 00 08 00 00 00 01 00 00 00 43 3a 00 00 00 00 00 00 ff 00 00 00"),
          ),
        ),
      "truncated",
    ],
    [
      "create path overruns",
      () =>
        parseDeviceIoRequest(
          parseRdpdrPdu(hex("72 44 52 49 01 00 00 00 00 00 00 00 07 00 00 00 00 00 00 00 00 00 00 00")),
        ),
      "truncated",
    ],
    ["header only", () => parseRdpdrPdu(hex("72 44 41")), "truncated"],
  ];
  for (const [name, fn, code] of cases) assert.equal(codeOf(fn), code, name);
});
