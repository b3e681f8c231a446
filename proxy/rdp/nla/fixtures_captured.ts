/**
 * TSRequests captured from a real xfreerdp 2.11 (`/sec:nla /u:alice /d:CORP`, a wrong password)
 * against tests/helpers/rdp_nla.ts: its NTLM NEGOTIATE (v6, clientNonce in every message), then
 * the AUTHENTICATE with MIC, channel bindings, target name and the sealed pubKeyAuth.
 */
import { hex } from "../pdu/reader.ts";

export const XFREERDP_NEGOTIATE_TSREQUEST = hex(`
30 5b a0 03 02 01 06 a1 30 30 2e 30 2c a0 2a 04 28 4e 54 4c 4d 53 53 50 00 01 00 00 00 b7 82 08
e2 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 06 01 b1 1d 00 00 00 0f a5 22 04 20 69 f3 48
dc 6e 0c 75 63 bc b5 6f fd b9 e0 63 7c 80 36 eb 4e 51 b4 a4 2d c3 3d 68 58 6e ed 0a 11`);

export const XFREERDP_AUTHENTICATE_TSREQUEST = hex(`
30 82 01 e1 a0 03 02 01 06 a1 82 01 80 30 82 01 7c 30 82 01 78 a0 82 01 74 04 82 01 70 4e 54 4c
4d 53 53 50 00 03 00 00 00 18 00 18 00 6e 00 00 00 da 00 da 00 86 00 00 00 08 00 08 00 58 00 00
00 0a 00 0a 00 60 00 00 00 04 00 04 00 6a 00 00 00 10 00 10 00 60 01 00 00 35 b2 88 e2 06 01 b1
1d 00 00 00 0f ed ac 72 e9 90 74 3e 14 22 a0 d7 39 ff 53 7a 0f 43 00 4f 00 52 00 50 00 61 00 6c
00 69 00 63 00 65 00 76 00 6d 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
00 00 00 46 5b 02 16 4d 99 6b 19 9e b8 35 db 5f 0c 4c ed 01 01 00 00 00 00 00 00 70 df 7e f2 3f
84 dd 01 4f 28 40 5b 3c f7 b7 8f 00 00 00 00 02 00 10 00 4a 00 55 00 4d 00 50 00 48 00 4f 00 53
00 54 00 01 00 10 00 4a 00 55 00 4d 00 50 00 48 00 4f 00 53 00 54 00 04 00 10 00 6a 00 75 00 6d
00 70 00 68 00 6f 00 73 00 74 00 03 00 10 00 6a 00 75 00 6d 00 70 00 68 00 6f 00 73 00 74 00 07
00 08 00 70 df 7e f2 3f 84 dd 01 06 00 04 00 02 00 00 00 0a 00 10 00 00 00 00 00 00 00 00 00 00
00 00 00 00 00 00 00 09 00 22 00 54 00 45 00 52 00 4d 00 53 00 52 00 56 00 2f 00 31 00 32 00 37
00 2e 00 30 00 2e 00 30 00 2e 00 31 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 c2 c7 25
5f 62 b2 6c 0d d4 b4 3b 94 9c 36 b3 c4 a3 32 04 30 01 00 00 00 35 1c e2 42 af 0d 12 46 00 00 00
00 b8 cf 3a 6b 09 a2 44 6f 02 0f 56 3e 30 5d 21 36 af dd 35 fc 6f a3 40 bd 00 d4 96 69 a6 3c 4a
30 a5 22 04 20 69 f3 48 dc 6e 0c 75 63 bc b5 6f fd b9 e0 63 7c 80 36 eb 4e 51 b4 a4 2d c3 3d 68
58 6e ed 0a 11`);
