/**
 * Literal byte fixtures transcribed from the annotated traces in MS-RDPBCGR section 4
 * (the specification's own examples, which Microsoft permits reproducing in implementations).
 */
import { hex } from "./reader.ts";

/** 4.1.1 Client X.224 Connection Request: cookie "mstshash=eltons", requestedProtocols PROTOCOL_RDP. */
export const SPEC_CONNECTION_REQUEST = hex(`
03 00 00 2c 27 e0 00 00 00 00 00 43 6f 6f 6b 69 65 3a 20 6d 73 74 73 68 61 73 68 3d 65 6c 74 6f
6e 73 0d 0a 01 00 08 00 00 00 00 00`);

/** 4.1.3 Client MCS Connect Initial with GCC Conference Create Request (416 bytes). */
export const SPEC_CONNECT_INITIAL = hex(`
03 00 01 a0 02 f0 80 7f 65 82 01 94 04 01 01 04 01 01 01 01 ff 30 19 02 01 22 02 01 02 02 01 00
02 01 01 02 01 00 02 01 01 02 02 ff ff 02 01 02 30 19 02 01 01 02 01 01 02 01 01 02 01 01 02 01
00 02 01 01 02 02 04 20 02 01 02 30 1c 02 02 ff ff 02 02 fc 17 02 02 ff ff 02 01 01 02 01 00 02
01 01 02 02 ff ff 02 01 02 04 82 01 33 00 05 00 14 7c 00 01 81 2a 00 08 00 10 00 01 c0 00 44 75
63 61 81 1c 01 c0 d8 00 04 00 08 00 00 05 00 04 01 ca 03 aa 09 04 00 00 ce 0e 00 00 45 00 4c 00
54 00 4f 00 4e 00 53 00 2d 00 44 00 45 00 56 00 32 00 00 00 00 00 00 00 00 00 00 00 04 00 00 00
00 00 00 00 0c 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
00 00 00 00 00 00 00 00 01 ca 01 00 00 00 00 00 18 00 07 00 01 00 36 00 39 00 37 00 31 00 32 00
2d 00 37 00 38 00 33 00 2d 00 30 00 33 00 35 00 37 00 39 00 37 00 34 00 2d 00 34 00 32 00 37 00
31 00 34 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 04 c0 0c 00
0d 00 00 00 00 00 00 00 02 c0 0c 00 1b 00 00 00 00 00 00 00 03 c0 2c 00 03 00 00 00 72 64 70 64
72 00 00 00 00 00 80 80 63 6c 69 70 72 64 72 00 00 00 a0 c0 72 64 70 73 6e 64 00 00 00 00 00 c0`);

/** 4.1.4 Server MCS Connect Response with GCC Conference Create Response (standard RDP security). */
export const SPEC_CONNECT_RESPONSE = hex(`
03 00 01 51 02 f0 80 7f 66 82 01 45 0a 01 00 02 01 00 30 1a 02 01 22 02 01 03 02 01 00 02 01 01
02 01 00 02 01 01 02 03 00 ff f8 02 01 02 04 82 01 1f 00 05 00 14 7c 00 01 2a 14 76 0a 01 01 00
01 c0 00 4d 63 44 6e 81 08 01 0c 0c 00 04 00 08 00 00 00 00 00 03 0c 10 00 eb 03 03 00 ec 03 ed
03 ee 03 00 00 02 0c ec 00 02 00 00 00 02 00 00 00 20 00 00 00 b8 00 00 00 10 11 77 20 30 61 0a
12 e4 34 a1 1e f2 c3 9f 31 7d a4 5f 01 89 34 96 e0 ff 11 08 69 7f 1a c3 d2 01 00 00 00 01 00 00
00 01 00 00 00 06 00 5c 00 52 53 41 31 48 00 00 00 00 02 00 00 3f 00 00 00 01 00 01 00 cb 81 fe
ba 6d 61 c3 55 05 d5 5f 2e 87 f8 71 94 d6 f1 a5 cb f1 5f 0c 3d f8 70 02 96 c4 fb 9b c8 3c 2d 55
ae e8 ff 32 75 ea 68 79 e5 a2 01 fd 31 a0 b1 1f 55 a6 1f c1 f6 d1 83 88 63 26 56 12 bc 00 00 00
00 00 00 00 00 08 00 48 00 e9 e1 d6 28 46 8b 4e f5 0a df fd ee 21 99 ac b4 e1 8f 5f 81 57 82 ef
9d 96 52 63 27 18 29 db b3 4a fd 9a da 42 ad b5 69 21 89 0e 1d c0 4c 1a a8 aa 71 3e 0f 54 b9 9a
e4 99 68 3f 6c d6 76 84 61 00 00 00 00 00 00 00 00`);

/** 4.1.7 Server MCS Attach User Confirm: result rt-successful, initiator 1007. */
export const SPEC_ATTACH_USER_CONFIRM = hex("03 00 00 0b 02 f0 80 2e 00 00 06");

/** 4.1.8.2.1 Client MCS Channel Join Request: initiator 1007, channelId 1003. */
export const SPEC_CHANNEL_JOIN_REQUEST = hex("03 00 00 0c 02 f0 80 38 00 06 03 eb");

/** 4.1.8.1.2 Server MCS Channel Join Confirm: successful, initiator 1007, requested = channelId = 1007. */
export const SPEC_CHANNEL_JOIN_CONFIRM = hex("03 00 00 0f 02 f0 80 3e 00 00 06 03 ef 03 ef");

/**
 * 4.4 Server-to-client Virtual Channel PDU (standard RDP security: 12-byte security header, then
 * encrypted data). Send Data Indication initiator 1002, channel 1005, low priority, begin|end.
 * The spec's hex line shows a TPKT length of 0x2e but the dump has 42 bytes and the annotation
 * reads "03 00 00 2a -> TPKT Header (length = 42 bytes)"; the consistent 0x2a is used here.
 */
export const SPEC_VIRTUAL_CHANNEL_PDU = hex(`
03 00 00 2a 02 f0 80 68 00 01 03 ed f0 1c 08 08 01 00 47 bd eb cb 29 51 ae 0a f6 07 33 ce fc a5
f7 09 de 67 4e a3 2a 2c 38 29`);

/**
 * 4.1.13 Client Confirm Active PDU, the decrypted TS_CONFIRM_ACTIVE_PDU (492 bytes, 18 capability
 * sets, source descriptor "MSTSC"). Under TLS this is exactly the MCS Send Data Request userData.
 */
export const SPEC_CONFIRM_ACTIVE_DATA = hex(`
ec 01 13 00 ef 03 ea 03 01 00 ea 03 06 00 d6 01 4d 53 54 53 43 00 12 00 00 00 01 00 18 00 01 00
03 00 00 02 00 00 00 00 1d 04 00 00 00 00 00 00 00 00 02 00 1c 00 18 00 01 00 01 00 01 00 00 05
00 04 00 00 01 00 01 00 00 00 01 00 00 00 03 00 58 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
00 00 00 00 00 00 01 00 14 00 00 00 01 00 00 00 2a 00 01 01 01 01 01 00 00 01 01 01 00 01 00 00
00 01 01 01 01 01 01 01 01 00 01 01 01 00 00 00 00 00 a1 06 00 00 00 00 00 00 00 84 03 00 00 00
00 00 e4 04 00 00 13 00 28 00 03 00 00 03 78 00 00 00 78 00 00 00 fb 09 00 80 00 00 00 00 00 00
00 00 00 00 00 00 00 00 00 00 00 00 00 00 0a 00 08 00 06 00 00 00 07 00 0c 00 00 00 00 00 00 00
00 00 05 00 0c 00 00 00 00 00 02 00 02 00 08 00 0a 00 01 00 14 00 15 00 09 00 08 00 00 00 00 00
0d 00 58 00 15 00 20 00 09 04 00 00 04 00 00 00 00 00 00 00 0c 00 00 00 00 00 00 00 00 00 00 00
00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 0c 00 08 00 01 00 00 00
0e 00 08 00 01 00 00 00 10 00 34 00 fe 00 04 00 fe 00 04 00 fe 00 08 00 fe 00 08 00 fe 00 10 00
fe 00 20 00 fe 00 40 00 fe 00 80 00 fe 00 00 01 40 00 00 08 00 01 00 01 03 00 00 00 0f 00 08 00
01 00 00 00 11 00 0c 00 01 00 00 00 00 1e 64 00 14 00 08 00 01 00 00 00 15 00 0c 00 02 00 00 00
00 0a 00 01 16 00 28 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
00 00 00 00 00 00 00 00 00 00 00 00`);
