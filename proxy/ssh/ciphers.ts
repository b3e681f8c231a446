// Cipher preferences for both legs of the proxy. Without ssh2's native addon (it cannot load in Deno) every
// cipher runs through Deno's node:crypto, where the choice changes the proxy's CPU per byte relayed.

/**
 * Ciphers offered to clients. No chacha20-poly1305: without the addon it costs three node:crypto contexts
 * per packet that are never finalised, so Deno frees them only on garbage collection; aes-ctr keeps one
 * context per direction for the connection (released at close) and measured as fast here. OpenSSH clients
 * then choose aes128-ctr with hmac-sha2-256-etm.
 */
export const CLIENT_CIPHERS = [
  "aes128-ctr",
  "aes192-ctr",
  "aes256-ctr",
  "aes128-gcm@openssh.com",
  "aes256-gcm@openssh.com",
];

/**
 * Ciphers offered to the backend (ssh2 is the client there, so this order decides). ssh2's default puts
 * aes-gcm first, but in Deno that creates a GCM context per packet and decrypts GCM through a slow path;
 * aes128-ctr with hmac-sha2-256-etm measured cheaper per byte (bench/ssh/RESULTS.md). The same set as
 * offered to clients, so neither leg accepts a cipher the other would not.
 */
export const BACKEND_CIPHERS = CLIENT_CIPHERS;
