// ssh2 writes every outgoing packet to the socket in 3–4 pieces (length, ciphertext, MAC or tag, each a
// separate socket.write), and relaying one read of the peer socket yields several packets. In Deno every
// socket.write is its own write syscall and, with TCP_NODELAY (needed for keystroke latency), its own TCP
// segment: profiled, the socket writes were a quarter of the proxy's CPU in bulk transfers. Corking the
// socket for the rest of the current task turns all pieces written in it into one writev, and nothing waits
// for a timer, so latency is unchanged.
import type { Socket } from "node:net";

/** The flushes of sockets corked in the current task. */
const pending = new Set<() => void>();

/**
 * Sends what this task wrote so far now instead of at its end: a relay calls it between forwarding a chunk
 * and recording it, so a keystroke and its echo go out before the recorder's work (bench/ssh, echo RTT).
 */
export function flushBatchedWrites(): void {
  for (const flush of pending) flush();
}

/** Makes `sock` gather the writes of one task (synchronous run of JavaScript) into a single write. */
export function batchWrites(sock: Socket): void {
  const write = sock.write;
  let corked = false;
  const flush = () => {
    pending.delete(flush);
    if (!corked) return;
    corked = false;
    // end() uncorks by itself; a destroyed socket has nothing left to write
    if (sock.writableCorked > 0 && !sock.destroyed) sock.uncork();
  };
  sock.write = function (this: Socket, ...args: Parameters<Socket["write"]>): boolean {
    if (!corked && !sock.destroyed && !sock.writableEnded) {
      corked = true;
      sock.cork();
      pending.add(flush);
      queueMicrotask(flush);
    }
    return write.apply(this, args);
  } as Socket["write"];
}
