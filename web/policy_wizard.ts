// The policy wizard's pure core: which fields belong to which step, validation per step, and the
// conversion of the collected answers into the store's PolicyInput.
import type { PolicyInput } from "../db/policies.ts";
import { isPolicyLogin } from "../policy/policy_login.ts";
import { parseUtc } from "./query.ts";
import { parseSchedule } from "../policy/schedule.ts";
import { PolicyInputError } from "../policy/errors.ts";

export const STEPS = ["Subject", "Scope", "Access", "Validity", "Review"] as const;
export const STEP_FIELDS: readonly (readonly string[])[] = [
  ["subject_kind", "subject"],
  ["scope_kind", "scope", "protocol"],
  ["logins", "port_forwarding"],
  ["validity_mode", "duration_minutes", "valid_from", "valid_until", "schedules"],
  [],
];
export const ALL_FIELDS = STEP_FIELDS.flat();

export interface Choices {
  users: string[];
  userGroups: string[];
  servers: { name: string; protocols: string[] }[];
  serverGroups: string[];
}

export type Answers = Record<string, string>;
type Errors = Record<string, string>;

const MAX_MINUTES = 366 * 24 * 60;

/** The weekly windows typed one per line (empty lines ignored). */
export function splitSchedules(text: string | undefined): string[] {
  return (text ?? "").split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== "");
}

export function splitLogins(text: string | undefined): string[] {
  return [...new Set((text ?? "").split(/[\s,]+/).map((l) => l.trim()).filter((l) => l !== ""))];
}

/** Errors of one step's fields (0-based step index). */
export function validateStep(step: number, a: Answers, ch: Choices, now: Date): Errors {
  const e: Errors = {};
  if (step === 0) {
    if (a.subject_kind !== "user" && a.subject_kind !== "user_group") {
      e.subject_kind = "choose a user or a user group";
    } else if (!a.subject) e.subject = "required";
    else if (!(a.subject_kind === "user" ? ch.users : ch.userGroups).includes(a.subject)) {
      e.subject = `no ${a.subject_kind === "user" ? "user" : "user group"} named "${a.subject}"`;
    }
  } else if (step === 1) {
    const kind = a.scope_kind;
    if (kind !== "server_group" && kind !== "server" && kind !== "server_protocol") {
      e.scope_kind = "choose a server group, a server, or one protocol of a server";
    } else if (!a.scope) e.scope = "required";
    else if (kind === "server_group") {
      if (!ch.serverGroups.includes(a.scope)) e.scope = `no server group named "${a.scope}"`;
    } else {
      const s = ch.servers.find((x) => x.name === a.scope);
      if (!s) e.scope = `no server named "${a.scope}"`;
      else if (kind === "server_protocol") {
        if (a.protocol !== "ssh" && a.protocol !== "rdp") e.protocol = "choose SSH or RDP";
        else if (!s.protocols.includes(a.protocol)) {
          e.protocol = `${s.name} does not offer ${a.protocol.toUpperCase()}`;
        }
      }
    }
  } else if (step === 2) {
    const bad = splitLogins(a.logins).filter((l) => !isPolicyLogin(l));
    if (bad.length) e.logins = `not valid account names: ${bad.join(", ")}`;
  } else if (step === 3) {
    if (a.validity_mode === "duration") {
      const m = a.duration_minutes ?? "";
      if (!/^\d{1,6}$/.test(m) || +m < 1 || +m > MAX_MINUTES) {
        e.duration_minutes = `a whole number of minutes, 1-${MAX_MINUTES}`;
      }
    } else if (a.validity_mode === "range") {
      const from = a.valid_from ? parseUtc(a.valid_from) : now;
      const until = parseUtc(a.valid_until ?? "");
      if (!from) e.valid_from = "use YYYY-MM-DDTHH:MM (UTC), or leave empty for now";
      if (!until) e.valid_until = "use YYYY-MM-DDTHH:MM (UTC)";
      else if (until <= now) e.valid_until = "is already in the past";
      else if (from && until <= from) e.valid_until = "must be after valid from";
    } else e.validity_mode = "choose a duration or a from/until range";
    const lines = splitSchedules(a.schedules);
    if (lines.length > 20) e.schedules = "at most 20 windows";
    for (const [i, line] of lines.entries()) {
      try {
        parseSchedule(line);
      } catch (err) {
        if (!(err instanceof PolicyInputError)) throw err;
        e.schedules = `line ${i + 1}: ${err.message}`;
        break;
      }
    }
  }
  return e;
}

/** The first step (0-based) with an error, validating steps 0..upTo; -1 when all are valid. */
export function firstInvalidStep(
  upTo: number,
  a: Answers,
  ch: Choices,
  now: Date,
): { step: number; errors: Errors } {
  for (let s = 0; s <= upTo; s++) {
    const errors = validateStep(s, a, ch, now);
    if (Object.keys(errors).length) return { step: s, errors };
  }
  return { step: -1, errors: {} };
}

/** The step a store error's field belongs to (so the wizard reopens there). */
export function stepOfField(field: string): number {
  const i = STEP_FIELDS.findIndex((f) => f.includes(field));
  return i < 0 ? STEPS.length - 1 : i;
}

export function toPolicyInput(a: Answers, now: Date): PolicyInput {
  const from = a.validity_mode === "range" && a.valid_from ? parseUtc(a.valid_from)! : now;
  const until = a.validity_mode === "duration"
    ? new Date(from.getTime() + Number(a.duration_minutes) * 60_000)
    : parseUtc(a.valid_until ?? "")!;
  return {
    user: a.subject_kind === "user" ? a.subject : undefined,
    userGroup: a.subject_kind === "user_group" ? a.subject : undefined,
    server: a.scope_kind === "server" || a.scope_kind === "server_protocol" ? a.scope : undefined,
    serverGroup: a.scope_kind === "server_group" ? a.scope : undefined,
    protocols: a.scope_kind === "server_protocol" ? [a.protocol] : [],
    logins: splitLogins(a.logins),
    portForwarding: a.port_forwarding === "on",
    schedules: splitSchedules(a.schedules),
    validFrom: from,
    validUntil: until,
  };
}
