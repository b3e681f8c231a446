// How the SSH proxy finds dead peers without spending CPU on idle sessions.
//
// Every SSH-level keepalive is a packet encrypted, sent, answered, decrypted and parsed in JavaScript: at
// 30 s on both legs, 10,000 idle sessions cost a fifth of a core (bench/ssh/bench_idle.ts). The kernel's TCP
// keepalive finds a vanished peer (host down, NAT state lost) for free, so it runs on both legs; the
// SSH-level keepalive stays for what TCP cannot see, a peer that is connected but no longer answering: often
// towards clients (laptops, VPNs), rarely towards servers.

/** TCP keepalive (SO_KEEPALIVE) after this much silence, on both legs' sockets. */
export const TCP_KEEPALIVE_MS = 30_000;
/** SSH keepalive towards the client; 3 unanswered end the session (≈ 3 minutes for a dead client). */
export const CLIENT_KEEPALIVE_MS = 60_000;
/** SSH keepalive towards the backend; 3 unanswered end the session (a hung server: ≈ 15 minutes). */
export const BACKEND_KEEPALIVE_MS = 300_000;
