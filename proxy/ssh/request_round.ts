// The access request conversation at the SSH prompt, over keyboard-interactive: "No grant for root@web1.
// Request access? Minutes, reason:", the request stored (db/access_requests.ts), then the connection waits for
// the decision, showing "waiting for approval…" (an info request without prompts, which OpenSSH prints and
// answers at once; repeated each minute, so a dead client is noticed). auth.ts goes on with the same
// connection once the request is approved.
import type { User } from "../../policy/mod.ts";
import { parsePromptAnswer } from "../../policy/access_request.ts";
import { createAccessRequest, requestStateOf } from "../../db/access_requests.ts";
import { cancelAccessRequest } from "../../db/access_request_decisions.ts";
import { InputError } from "../../db/errors.ts";
import type { Runtime } from "./runtime.ts";
import type { KeyboardAuth } from "./ssh2_types.ts";
import type { ConnFacts } from "./events.ts";
import {
  deniedText,
  REQUEST_PROMPT,
  requestDeniedText,
  requestOfferText,
  requestRefusedText,
  requestStillWaitingText,
  requestTimedOutText,
  requestWaitingText,
  unavailableText,
} from "./texts.ts";

export const DEFAULT_REQUEST_WAIT_MS = 10 * 60_000;
const MAX_ANSWERS = 3;
const HEARTBEAT_MS = 60_000;

export type RequestRoundOutcome =
  | { kind: "approved"; requestId: number }
  /** the conversation is over: tell the client `text` (empty: it has gone) and disconnect */
  | { kind: "end"; text: string };

export interface RequestRoundInput {
  facts: ConnFacts;
  user: User;
  /** as the user named it (it may be no server's name) */
  serverName: string;
  login: string;
  /** aborted when the client connection closes */
  closed: AbortSignal;
  /** the user is identified and now waits: the login grace no longer applies */
  onWaiting(): void;
}

function ask(
  ctx: KeyboardAuth,
  closed: AbortSignal,
  instruction: string,
  prompts: { prompt: string; echo: boolean }[],
) {
  return new Promise<string[] | null>((resolve) => {
    if (closed.aborted) return resolve(null);
    const gone = () => resolve(null);
    closed.addEventListener("abort", gone, { once: true });
    ctx.prompt(prompts, "", instruction, (answers) => {
      closed.removeEventListener("abort", gone);
      resolve(Array.isArray(answers) ? answers.map((a) => String(a)) : null);
    });
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

export async function requestRound(
  rt: Runtime,
  ctx: KeyboardAuth,
  o: RequestRoundInput,
): Promise<RequestRoundOutcome> {
  const ref = o.facts.ref;
  let instruction = requestOfferText(o.login, o.serverName);
  let wanted: { minutes: number; reason: string } | null = null;
  for (let i = 0; i < MAX_ANSWERS && wanted === null; i++) {
    const answers = await ask(ctx, o.closed, instruction, [{ prompt: REQUEST_PROMPT, echo: true }]);
    if (answers === null || o.closed.aborted) return { kind: "end", text: "" };
    const a = parsePromptAnswer(answers[0] ?? "");
    if (a.kind === "declined") return { kind: "end", text: deniedText(ref) };
    if (a.kind === "request") wanted = a;
    else instruction = `${requestOfferText(o.login, o.serverName)}\n${a.message}`;
  }
  if (wanted === null) return { kind: "end", text: deniedText(ref) };

  const waitMs = rt.deps.requestWaitMs ?? DEFAULT_REQUEST_WAIT_MS;
  const waitMinutes = Math.max(1, Math.round(waitMs / 60_000));
  let id: number;
  try {
    const r = await createAccessRequest(rt.deps.sql, {
      userId: o.user.id,
      userName: o.user.name,
      serverName: o.serverName,
      protocol: "ssh",
      logins: [o.login],
      minutes: wanted.minutes,
      reason: wanted.reason,
      sourceIp: o.facts.sourceIp,
      via: "ssh_prompt",
      waitMinutes: waitMs / 60_000,
      details: { ref, ssh_user: o.facts.username, proxy_ip: o.facts.localIp },
    });
    id = r.id;
  } catch (e) {
    if (e instanceof InputError) return { kind: "end", text: requestRefusedText(e.message) };
    rt.deps.log.error("could not store an access request", { ref, error: (e as Error).message });
    return { kind: "end", text: unavailableText(ref) };
  }

  o.onWaiting();
  const started = Date.now();
  const deadline = started + waitMs;
  if ((await ask(ctx, o.closed, requestWaitingText(id, waitMinutes), [])) === null) {
    await withdraw(rt, id, "client disconnected");
    return { kind: "end", text: "" };
  }
  let nextBeat = started + HEARTBEAT_MS;
  const poll = rt.deps.requestPollMs ?? 1000;
  for (;;) {
    if (o.closed.aborted) {
      await withdraw(rt, id, "client disconnected");
      return { kind: "end", text: "" };
    }
    let s;
    try {
      s = await requestStateOf(rt.deps.sql, id);
    } catch (e) {
      // the database is away for a moment: keep waiting (the deadline still holds)
      rt.deps.log.warn("could not read an access request", { ref, request: id, error: (e as Error).message });
      s = null;
    }
    if (s?.state === "approved") return { kind: "approved", requestId: id };
    if (s?.state === "denied") return { kind: "end", text: requestDeniedText(id, s.note) };
    if (s && s.state !== "pending") return { kind: "end", text: requestTimedOutText(id, waitMinutes) };
    const now = Date.now();
    if (now >= deadline) {
      await withdraw(rt, id, `not decided within ${waitMinutes} min`, "expired");
      return { kind: "end", text: requestTimedOutText(id, waitMinutes) };
    }
    if (now >= nextBeat) {
      nextBeat = now + HEARTBEAT_MS;
      const left = Math.max(1, Math.ceil((deadline - now) / 60_000));
      if ((await ask(ctx, o.closed, requestStillWaitingText(id, left), [])) === null) {
        await withdraw(rt, id, "client disconnected");
        return { kind: "end", text: "" };
      }
    }
    await sleep(Math.min(poll, Math.max(1, deadline - now)), o.closed);
  }
}

async function withdraw(rt: Runtime, id: number, why: string, state: "cancelled" | "expired" = "cancelled") {
  try {
    await cancelAccessRequest(rt.deps.sql, id, why, undefined, state);
  } catch (e) {
    // it stays pending until its own expiry; nothing else depends on it
    rt.deps.log.warn("could not withdraw an access request", { request: id, error: (e as Error).message });
  }
}
