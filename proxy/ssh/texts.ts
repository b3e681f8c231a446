// What the end user reads. A denial says little (a reference to quote to the administrator); the
// audit log holds the reason. Terminal texts use CRLF: they are written into a raw-mode PTY stream.

export function deniedText(ref: string): string {
  return `jumphost: access denied (reference ${ref}). Contact your administrator if you need access.`;
}

export function unavailableText(ref: string): string {
  return `jumphost: the service is temporarily unavailable (reference ${ref}). Try again later.`;
}

export function mfaNotEnrolledText(ref: string): string {
  return `jumphost: a verification code (TOTP) is required for this login and you have no authenticator ` +
    `enrolled (reference ${ref}). Ask your administrator to enrol one for you.`;
}

export function whichServerText(): string {
  return "jumphost: say which server you want: ssh LOGIN@SERVER@<jumphost> (or ssh -l LOGIN@SERVER <jumphost>).";
}

export function unknownServerText(ref: string): string {
  return `jumphost: unknown or unavailable server (reference ${ref}).`;
}

function utc(d: Date): string {
  return d.toISOString().replace("T", " ").replace(/:\d\d\.\d{3}Z$/, " UTC");
}

export function loginBanner(
  b: { user: string; login: string; server: string; until: Date; ref: string },
): string {
  return `jumphost: ${b.user} connected to ${b.login}@${b.server}, access until ${utc(b.until)}` +
    ` (session ${b.ref}); this session is recorded.\r\n`;
}

export function warningText(server: string, remaining: string, until: Date): string {
  return `\r\n\x07jumphost: your access to ${server} ends in ${remaining} (at ${utc(until)}).\r\n`;
}

export function endText(
  reason: "expired" | "revoked" | "killed" | "shutdown" | "error" | "node_lost",
  server: string,
): string {
  const why = {
    expired: `your access to ${server} has expired`,
    revoked: `your access to ${server} was revoked`,
    killed: "an administrator ended this session",
    shutdown: "the jump host is shutting down",
    error: "the session ended because of an internal error",
    node_lost: "this jump host node was declared lost by the others",
  }[reason];
  return `\r\njumphost: ${why}; disconnecting.\r\n`;
}

/** A user known by address only typed a password for a server that does not allow passthrough. */
export function passthroughOffText(server: string, ref: string): string {
  return `jumphost: ${server} does not accept passwords through the jump host (reference ${ref}). Log in ` +
    `with a key ${server} accepts (ssh -A), or ask your administrator.`;
}

/**
 * `password`: how a password typed at the jump took part: "passed" (the backend refused it), "withheld"
 * (the server does not allow passthrough, so the backend never saw it), or "none".
 */
export function backendFailureText(
  server: string,
  code: string,
  password: "passed" | "withheld" | "none" = "none",
): string {
  switch (code) {
    case "auth_failed":
    case "no_credentials":
      if (password === "withheld") {
        return `jumphost: ${server} refused the login. Your jump password is not passed to ${server} ` +
          `(password passthrough is off for it): use ssh -A with a key ${server} accepts, or ask your ` +
          `administrator for a backend key.\r\n`;
      }
      if (password === "passed") {
        return `jumphost: ${server} refused the login with the password you typed. Use the password of ` +
          `your account on ${server}, or ssh -A with a key it accepts.\r\n`;
      }
      return `jumphost: ${server} refused the login. Use ssh -A with a key the server accepts, or password ` +
        `authentication at the jump host (-o PreferredAuthentications=password).\r\n`;
    case "host_key_mismatch":
      return `jumphost: the host key of ${server} does not match the pinned key; the connection was refused. ` +
        `Contact your administrator.\r\n`;
    case "timeout":
      return `jumphost: ${server} did not answer in time.\r\n`;
    default:
      return `jumphost: cannot connect to ${server}.\r\n`;
  }
}

// Access requests over keyboard-interactive (request_round.ts). Shown by OpenSSH as the prompt's instruction
// lines; the same for a server that does not exist, so the answer tells nobody which servers exist.

export function requestOfferText(login: string, server: string): string {
  return `No grant for ${login}@${server}.`;
}

export const REQUEST_PROMPT = "Request access? Minutes, reason (empty = no): ";

export function requestWaitingText(id: number, minutes: number): string {
  return `jumphost: request ${id} sent; waiting for approval... (up to ${minutes} min; Ctrl-C withdraws it)`;
}

export function requestStillWaitingText(id: number, minutesLeft: number): string {
  return `jumphost: request ${id}: still waiting for approval... (${minutesLeft} min left)`;
}

export function requestApprovedText(id: number): string {
  return `jumphost: request ${id} approved.`;
}

export function requestDeniedText(id: number, note: string | null): string {
  return `jumphost: request ${id} was denied${note ? `: ${note}` : ""}.`;
}

export function requestTimedOutText(id: number, minutes: number): string {
  return `jumphost: request ${id} was not decided within ${minutes} min; it has expired.`;
}

export function requestRefusedText(message: string): string {
  return `jumphost: ${message}`;
}
