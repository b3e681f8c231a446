// How a relayed connection ended, for its session row (pure).
import type { TerminationReason } from "../../db/sessions.ts";
import type { RelayEnd } from "./relay.ts";
import type { TapStats } from "./connection_tap.ts";

export interface ConnectionOutcome {
  reason: TerminationReason;
  detail: string | null;
  /** A deliberate end: close the session now rather than wait for a reconnect. */
  final: boolean;
}

export function connectionOutcome(
  r: RelayEnd,
  termination: { reason: TerminationReason; detail: string } | null,
  endedBy: TapStats["endedBy"],
): ConnectionOutcome {
  if (termination) return { ...termination, final: true };
  if (r.reason === "refused") {
    return { reason: "error", detail: `refused: ${r.error?.message}`, final: true };
  }
  if (r.reason === "protocol_error") {
    return {
      reason: "error",
      detail: `protocol error from the ${r.side}: ${r.error?.message}`,
      final: false,
    };
  }
  if (endedBy) {
    return {
      reason: "normal",
      detail: `${endedBy.by} sent ${endedBy.how === "mcs" ? "MCS" : "X.224"} disconnect`,
      final: true,
    };
  }
  return {
    reason: r.error ? "error" : "normal",
    detail: `${r.side ?? "a"} connection closed${r.error ? `: ${r.error.message}` : ""}`,
    final: false,
  };
}
