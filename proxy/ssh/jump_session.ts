// A connection to the jump itself: a user who proved a key or password, logged in under their own jump user name
// and named no server (auth.ts). Only the commands of jump_command.ts run here (`request …`); a shell or any
// other command reads how to name a server, exits 1, and is audited as the denial it was before.
import type { User } from "../../policy/mod.ts";
import { createAccessRequest, requestStateOf } from "../../db/access_requests.ts";
import { InputError } from "../../db/errors.ts";
import { JUMP_USAGE, parseJumpCommand, type RequestCommand } from "./jump_command.ts";
import { DEFAULT_REQUEST_WAIT_MS } from "./request_round.ts";
import type { Runtime } from "./runtime.ts";
import type { JumpUser } from "./auth.ts";
import type { IncomingConnection, ServerChannel } from "./ssh2_types.ts";
import { accessDenied, type ConnFacts } from "./events.ts";
import { whichServerText } from "./texts.ts";

export function serveJumpCommands(
  rt: Runtime,
  conn: IncomingConnection,
  facts: ConnFacts,
  ju: JumpUser,
): void {
  const closed = new AbortController();
  conn.on("close", () => closed.abort());
  conn.on("session", (accept) => {
    const session = accept();
    if (!session) return;
    session.on("pty", (ok) => ok?.());
    session.on("env", (ok) => ok?.());
    session.on("window-change", (ok) => ok?.());
    session.on("auth-agent", (_ok, no) => no?.());
    session.on("x11", (_ok, no) => no?.());
    session.on("subsystem", (_ok, no) => no());
    session.on("shell", (ok) => {
      const ch = ok();
      if (ch) notHere(rt, facts, ju, ch, "");
    });
    session.on("exec", (ok, _no, info) => {
      const ch = ok();
      if (ch) void run(rt, facts, ju, ch, info.command, closed.signal);
    });
  });
  // nothing to forward to
  conn.on("tcpip", (_ok, no) => no());
  conn.on("request", (_ok, no) => no?.());
}

function finish(ch: ServerChannel, status: number): void {
  try {
    ch.exit(status);
    ch.end();
  } catch (_e) {
    // the client left first
  }
}

function notHere(rt: Runtime, facts: ConnFacts, ju: JumpUser, ch: ServerChannel, command: string): void {
  void rt.audit(
    accessDenied(
      facts,
      ju.reason,
      ju.detail + (command ? `; command ${JSON.stringify(command.slice(0, 80))}` : ""),
    ),
  );
  ch.stderr.write(`${whichServerText()}\r\njumphost: to ask for access: ${JUMP_USAGE}\r\n`);
  finish(ch, 1);
}

async function run(
  rt: Runtime,
  facts: ConnFacts,
  ju: JumpUser,
  ch: ServerChannel,
  command: string,
  closed: AbortSignal,
): Promise<void> {
  const c = parseJumpCommand(command);
  if (c.kind === "help") {
    ch.write(`${JUMP_USAGE}\n`);
    return finish(ch, 0);
  }
  if (c.kind === "invalid") {
    if (/^unknown command/.test(c.message)) return notHere(rt, facts, ju, ch, command);
    ch.stderr.write(`jumphost: ${c.message}\n${JUMP_USAGE}\n`);
    return finish(ch, 2);
  }
  try {
    await request(rt, facts, ju.user, ch, c.request, closed);
  } catch (e) {
    rt.deps.log.error("access request failed", { ref: facts.ref, error: (e as Error).message });
    ch.stderr.write(`jumphost: the service is temporarily unavailable (reference ${facts.ref}).\n`);
    finish(ch, 1);
  }
}

async function request(
  rt: Runtime,
  facts: ConnFacts,
  user: User,
  ch: ServerChannel,
  r: RequestCommand,
  closed: AbortSignal,
): Promise<void> {
  const waitMs = rt.deps.requestWaitMs ?? DEFAULT_REQUEST_WAIT_MS;
  let id: number;
  try {
    const row = await createAccessRequest(rt.deps.sql, {
      userId: user.id,
      userName: user.name,
      serverName: r.server,
      protocol: "ssh",
      logins: r.logins,
      minutes: r.minutes,
      reason: r.reason,
      sourceIp: facts.sourceIp,
      via: "ssh_exec",
      waitMinutes: waitMs / 60_000,
      details: { ref: facts.ref, proxy_ip: facts.localIp },
    });
    id = row.id;
  } catch (e) {
    if (e instanceof InputError) {
      ch.stderr.write(`jumphost: ${e.message}\n`);
      return finish(ch, 2);
    }
    throw e;
  }
  // the same answer whether the server exists or not
  ch.write(`${id}\n`);
  if (!r.wait) {
    ch.stderr.write(`jumphost: request ${id} is pending approval\n`);
    return finish(ch, 0);
  }
  ch.stderr.write(`jumphost: request ${id}: waiting for approval...\n`);
  const deadline = Date.now() + waitMs;
  const poll = rt.deps.requestPollMs ?? 1000;
  while (!closed.aborted) {
    const s = await requestStateOf(rt.deps.sql, id);
    if (s.state === "approved") {
      ch.stderr.write(`jumphost: request ${id} approved\n`);
      return finish(ch, 0);
    }
    if (s.state === "denied") {
      ch.stderr.write(`jumphost: request ${id} was denied${s.note ? `: ${s.note}` : ""}\n`);
      return finish(ch, 1);
    }
    if (s.state !== "pending" || Date.now() >= deadline) {
      ch.stderr.write(
        `jumphost: request ${id} was not decided in time (it stays pending until it expires)\n`,
      );
      return finish(ch, 3);
    }
    await new Promise((res) => setTimeout(res, poll));
  }
}
