// ssh2's packet ciphers and deciphers (the interface of its crypto.js classes: outSeqno / allocPacket /
// encrypt, inSeqno / _onPayload / decrypt, free) on OpenSSL's libcrypto through FFI (libcrypto.ts), for
// aes128/256-gcm@openssh.com, aes128/192/256-ctr with hmac-sha2-256/512 (-etm@openssh.com) or hmac-sha1
// (-etm), and chacha20-poly1305@openssh.com. One EVP context per direction lives as long as the keys:
// CTR keeps its counter, GCM advances its invocation counter per packet (EVP_CTRL_GCM_IV_GEN, as OpenSSH
// does), chacha20 re-IVs two contexts per packet. No per-packet context, no copies:
//   - outbound: allocPacket leaves room for the tag/MAC, the packet is encrypted in place and written once;
//   - inbound: a packet that lies whole in the socket chunk is decrypted in place there; one that spans
//     chunks is decrypted straight into its own buffer as the pieces arrive.
// Every length handed to libcrypto is checked against the view it writes into first: a peer's bytes can
// make a packet fail ("Bad packet length", "Invalid MAC"), never write out of bounds.
export { OsslCipher, type OutboundConfig } from "./openssl_cipher.ts";
export { type InboundConfig, OsslDecipher } from "./openssl_decipher.ts";
export { type OsslCipherKind, osslCreated, osslKind } from "./openssl_shared.ts";
