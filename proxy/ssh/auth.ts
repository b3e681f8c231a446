// Authentication at the jump: the source IP names the user (or a few users sharing a CIDR); a user with
// registered keys or a password must prove one of them. A user known by IP alone may log in with any key
// (to use a forwarded agent), with a password the backend accepts (passthrough, where the server allows it),
// or with nothing when the appliance holds a key for the server. A server without password passthrough never
// receives a password typed at the jump. Then route + decide(); a denial sends one banner line and the same
// text as the disconnect's description.
import { timedDecision } from "../worker_metrics.ts";
import { fingerprint } from "../../policy/ssh_key.ts";
import { type Allow, identifySource, type Server, type User } from "../../policy/mod.ts";
import { type FactorOwner, totpFactorOf, verifySecondFactor } from "../../db/totp.ts";
import type { RouteHow } from "./identify.ts";
import { authDecision, hasCredentials, methodsFor, mfaDemandedBy } from "./auth_decision.ts";
import { askCode, askPassword } from "./keyboard_prompts.ts";
import { checkJumpPassword } from "./jump_password.ts";
import { requestRound } from "./request_round.ts";
import type { Runtime } from "./runtime.ts";
import {
  DISCONNECT_NO_MORE_AUTH_METHODS_AVAILABLE,
  disconnectWith,
  sendAuthBanner,
} from "./ssh2_internals.ts";
import {
  type AuthContext,
  type IncomingConnection,
  type KeyboardAuth,
  parseKey,
  type PublicKeyAuth,
} from "./ssh2_types.ts";
import { accessDenied, accessGranted, authFailed, type ConnFacts, mfaFailed, mfaOk } from "./events.ts";
import {
  deniedText,
  mfaNotEnrolledText,
  passthroughOffText,
  requestApprovedText,
  unavailableText,
  unknownServerText,
  whichServerText,
} from "./texts.ts";
import { type Backend, BackendError } from "./upstream.ts";
import { backendFailureText } from "./texts.ts";

export type JumpMethod = "none" | "publickey" | "password" | "keyboard-interactive";

export interface JumpIdentity {
  user: User;
  server: Server;
  login: string;
  route: RouteHow;
  decision: Allow;
  method: JumpMethod;
  /** typed at the jump; passed through to the backend (null where the server does not allow passthrough) */
  password: string | null;
  /** a password was typed at the jump but the server does not allow passthrough: it stays at the jump */
  passwordWithheld: boolean;
  keyFingerprint: string | null;
  /** a backend session opened while checking a passthrough password, handed to the session */
  backend: Backend | null;
}

export interface AuthHooks {
  /** connects to the backend with this password (the backend is the judge for an IP-only user) */
  passthrough(id: Omit<JumpIdentity, "backend">): Promise<Backend>;
  /** an identified user waits for an access request's decision: the login grace no longer applies */
  waiting?(): void;
}

/** The first factor passed; the verification code comes next, then `then` (grant, offer a request …). */
interface CodeStep {
  user: User;
  /** for the audit rows of the code */
  server: string;
  login: string;
  /** a backend opened to check a passthrough password, closed if the code fails */
  backend: Backend | null;
  then(ctx: KeyboardAuth): Promise<void> | void;
}

/** A user logged in to the jump itself (jump_session.ts serves them). */
export interface JumpUser {
  user: User;
  /** why no server was chosen (no_server / ambiguous), for the audit row of a shell */
  reason: string;
  detail: string;
}

/** An identified user without a grant who was offered an access request (keyboard-interactive next). */
interface OfferedRequest {
  user: User;
  method: JumpMethod;
  password: string | null;
  fp: string | null;
  serverName: string;
  login: string;
}

const MAX_FAILURES = 8;

export class JumpAuth {
  identity: JumpIdentity | null = null;
  /** logged in to the jump itself (own user name, no server): only jump commands (jump_session.ts) */
  jumpUser: JumpUser | null = null;
  #denied = false;
  #failures = 0;
  #attempts: { method: string; outcome: string }[] = [];
  #candidates: User[] | null = null;
  /** the first factor passed and the decision allowed; waiting for the verification code */
  #awaitingCode: CodeStep | null = null;
  /** the first factor passed, no grant: an access request is offered */
  #offered: OfferedRequest | null = null;
  readonly #closed = new AbortController();
  /** the verification code was right on this connection */
  #mfaPassed = false;

  constructor(
    private readonly rt: Runtime,
    private readonly conn: IncomingConnection,
    readonly facts: ConnFacts,
    private readonly hooks: AuthHooks,
  ) {}

  get denied(): boolean {
    return this.#denied;
  }

  /** A backend opened to check a passthrough password that no session took over (the client left). */
  get unusedBackend(): Backend | null {
    return this.identity?.backend ?? this.#awaitingCode?.backend ?? null;
  }

  handle(ctx: AuthContext): void {
    this.#handle(ctx).catch((e) => {
      this.rt.deps.log.error("authentication failed internally", {
        ref: this.facts.ref,
        error: (e as Error).message,
      });
      this.#deny(ctx, "internal_error", (e as Error).message, unavailableText(this.facts.ref));
    });
  }

  /** Called when the connection closes before authentication succeeded. */
  async closedUnauthenticated(): Promise<void> {
    this.#closed.abort();
    if (this.#offered || this.jumpUser) return; // identified, and what happened is audited
    if (!this.#denied && this.identity === null && this.#attempts.length > 0) {
      // nobody was identified: a password guesser's rows are folded per source and minute
      await this.rt.preauthAudit(authFailed(this.facts, this.#attempts), "auth_failed");
    }
  }

  async #handle(ctx: AuthContext): Promise<void> {
    if (this.#denied || this.identity || this.jumpUser) return ctx.reject([]);
    if (this.#awaitingCode) {
      // the second round: only the verification code, for the same user name
      if (ctx.method !== "keyboard-interactive" || ctx.username !== this.facts.username) {
        return ctx.reject(["keyboard-interactive"], true);
      }
      return await this.#secondFactor(ctx as KeyboardAuth, this.#awaitingCode);
    }
    if (this.#offered) {
      if (ctx.method !== "keyboard-interactive" || ctx.username !== this.facts.username) {
        return ctx.reject(["keyboard-interactive"], true);
      }
      return await this.#requestAccess(ctx as KeyboardAuth, this.#offered);
    }
    this.facts.username = ctx.username;
    const snap = this.rt.snapshot();
    if (!snap) {
      return this.#deny(
        ctx,
        "db_unavailable",
        "policy snapshot unavailable",
        unavailableText(this.facts.ref),
      );
    }
    if (this.#candidates === null) {
      const m = identifySource(snap, this.facts.sourceIp);
      if (m.kind === "unknown") {
        return this.#deny(ctx, "unknown_source_ip", m.detail, deniedText(this.facts.ref));
      }
      this.#candidates = m.kind === "user" ? [m.user] : m.users;
    }
    const candidates = this.#candidates;
    const ipOnly = candidates.length === 1 && !hasCredentials(candidates[0]) ? candidates[0] : null;
    const methods = methodsFor(candidates);
    if (methods.length === 0) {
      // a shared source CIDR whose users have no keys or passwords: nothing can tell them apart
      const names = candidates.map((u) => u.name).sort().join(", ");
      return this.#deny(
        ctx,
        "unknown_source_ip",
        `shared source of ${names}, none has credentials`,
        deniedText(this.facts.ref),
      );
    }

    switch (ctx.method) {
      case "none":
        if (ipOnly) return await this.#authorize(ctx, ipOnly, "none", null, null, "appliance");
        return ctx.reject(methods);
      case "publickey": {
        const pk = ctx as PublicKeyAuth;
        const fp = fingerprint(pk.key.data);
        const user = candidates.find((u) => u.sshKeyFingerprints.includes(fp)) ?? ipOnly;
        if (!user) {
          if (pk.signature) return this.#fail(ctx, "publickey", "unregistered_key", methods);
          // an offered key is only a question, so it does not count towards the limit; it is still logged
          this.#attempts.push({ method: "publickey", outcome: "unregistered_key" });
          return ctx.reject(methods);
        }
        if (!pk.signature) return ctx.accept(); // the key would do: the client signs next
        const key = parseKey(pk.key.data);
        if (key instanceof Error || key.verify(pk.blob!, pk.signature, pk.hashAlgo) !== true) {
          return this.#fail(ctx, "publickey", "bad_signature", methods);
        }
        return await this.#authorize(ctx, user, "publickey", null, fp, null);
      }
      case "password":
      case "keyboard-interactive": {
        const password = ctx.method === "password"
          ? (ctx as AuthContext & { password: string }).password
          : await askPassword(ctx as KeyboardAuth);
        if (password === null) return this.#fail(ctx, ctx.method, "no_answer", methods);
        const who = await checkJumpPassword(this.rt, snap, candidates, {
          username: ctx.username,
          localIp: this.facts.localIp,
          sourceIp: this.facts.sourceIp,
          ref: this.facts.ref,
        }, password);
        if (who) return await this.#authorize(ctx, who, ctx.method, password, null, null);
        if (ipOnly) return await this.#authorize(ctx, ipOnly, ctx.method, password, null, "backend");
        return this.#fail(ctx, ctx.method, "bad_password", methods);
      }
      default:
        return ctx.reject(methods);
    }
  }

  async #authorize(
    ctx: AuthContext,
    user: User,
    method: JumpMethod,
    password: string | null,
    fp: string | null,
    /** IP-only: the appliance key or the backend must vouch for the login */
    vouch: "appliance" | "backend" | null,
    /** a denial may be answered with an access request (not again after one was approved) */
    mayRequest = true,
    /** this connection already passed the second factor (before its access request) */
    mfaDone = false,
  ): Promise<void> {
    const snap = this.rt.snapshot();
    if (!snap) {
      return this.#deny(
        ctx,
        "db_unavailable",
        "policy snapshot unavailable",
        unavailableText(this.facts.ref),
      );
    }
    this.facts.userName = user.name;
    // only a user who proved a key or password may ask (never one known by address alone)
    const canAsk = mayRequest && vouch === null && method !== "none";
    const outcome = authDecision(
      snap,
      { username: ctx.username, localIp: this.facts.localIp, sourceIp: this.facts.sourceIp, user, canAsk },
      this.rt.now(),
      (f) => timedDecision(this.rt.deps.metrics, "ssh", f),
    );
    if (outcome.kind === "offer") {
      const { serverName, login, reason, detail, facts } = outcome;
      const offer = { user, method, password, fp, serverName, login };
      return await this.#codeFirst(
        ctx,
        { user, server: serverName, login },
        (c) => this.#offerRequest(c, offer, reason, detail, facts),
      );
    }
    if (outcome.kind === "jump_user") {
      // logged in as themselves without naming a server: the jump's own commands (`request …`)
      const ju = { user, reason: outcome.reason, detail: outcome.detail };
      return await this.#codeFirst(ctx, { user, server: "", login: ctx.username }, (c) => {
        this.jumpUser = ju;
        c.accept();
      });
    }
    if (outcome.kind === "deny") {
      const text = outcome.text === "which_server"
        ? whichServerText()
        : outcome.text === "unknown_server"
        ? unknownServerText(this.facts.ref)
        : deniedText(this.facts.ref);
      return this.#deny(ctx, outcome.reason, outcome.detail, text, outcome.facts);
    }
    const { route, decision } = outcome;
    const passthrough = route.server.passwordPassthrough;
    if (vouch === "backend" && !passthrough) {
      // only the backend could judge this password, and it may not be handed to it
      return this.#deny(
        ctx,
        "passthrough_disabled",
        `server ${route.server.name} does not allow password passthrough; ${user.name} has no jump password`,
        passthroughOffText(route.server.name, this.facts.ref),
        { server: route.server.name, login: route.login, policyIds: decision.policyIds, route: route.how },
      );
    }
    const partial: Omit<JumpIdentity, "backend"> = {
      user,
      server: route.server,
      login: route.login,
      route: route.how,
      decision,
      method,
      password: passthrough ? password : null,
      passwordWithheld: password !== null && !passthrough,
      keyFingerprint: fp,
    };
    let backend: Backend | null = null;
    if (vouch === "appliance") {
      if (!(await this.rt.deps.applianceKeyFor(route.server.name))) return ctx.reject(methodsFor([user]));
    } else if (vouch === "backend") {
      try {
        backend = await this.hooks.passthrough(partial);
      } catch (e) {
        if (e instanceof BackendError && e.code === "auth_failed") {
          return this.#fail(ctx, method, "backend_rejected_password", ["password", "keyboard-interactive"]);
        }
        // the hook has audited the backend failure; tell the client and stop
        this.#denied = true;
        sendAuthBanner(
          this.conn,
          e instanceof BackendError
            ? backendFailureText(route.server.name, e.code)
            : unavailableText(this.facts.ref),
        );
        return ctx.reject([]);
      }
    }
    const identity: JumpIdentity = { ...partial, backend };
    const owner: FactorOwner = { kind: "user", id: user.id, name: user.name };
    const factor = await totpFactorOf(this.rt.deps.sql, owner);
    if (factor === null && decision.requireMfa) {
      backend?.client.end();
      return this.#deny(
        ctx,
        "mfa_not_enrolled",
        `a second factor is required (${mfaDemandedBy(user, route.server)}) and ${user.name} has none`,
        mfaNotEnrolledText(this.facts.ref),
        { server: route.server.name, login: route.login, policyIds: decision.policyIds, route: route.how },
      );
    }
    if (factor !== null && !mfaDone) {
      // partial success (RFC 4252 5.1): the client goes on with keyboard-interactive for the code
      this.#awaitingCode = {
        user,
        server: route.server.name,
        login: route.login,
        backend,
        then: (c) => this.#grant(c, identity),
      };
      return ctx.reject(["keyboard-interactive"], true);
    }
    this.#grant(ctx, identity);
  }

  /**
   * A user with a second factor types the code before anything that is not a plain denial happens for them
   * (an access request offered, the jump's own commands); without one, `next` runs now.
   */
  async #codeFirst(
    ctx: AuthContext,
    step: Omit<CodeStep, "then" | "backend">,
    next: (ctx: AuthContext) => Promise<void> | void,
  ): Promise<void> {
    const factor = await totpFactorOf(this.rt.deps.sql, {
      kind: "user",
      id: step.user.id,
      name: step.user.name,
    });
    if (factor === null) return await next(ctx);
    this.#awaitingCode = { ...step, backend: null, then: next };
    ctx.reject(["keyboard-interactive"], true);
  }

  /**
   * No grant: audited as a denial, the denial's banner shown, then partial success towards keyboard-interactive,
   * where the request is offered (a client that cannot answer just fails, as before).
   */
  #offerRequest(
    ctx: AuthContext,
    offer: OfferedRequest,
    reason: string,
    detail: string,
    extra: Parameters<typeof accessDenied>[3],
  ): void {
    this.rt.deps.metrics?.denials.inc({ protocol: "ssh", reason });
    void this.rt.audit(accessDenied(this.facts, reason, detail, { ...extra, requestOffered: true }));
    this.#offered = offer;
    try {
      sendAuthBanner(this.conn, deniedText(this.facts.ref));
    } catch (_e) {
      // the banner is a courtesy; the prompt says the same
    }
    ctx.reject(["keyboard-interactive"], true);
  }

  async #requestAccess(ctx: KeyboardAuth, offer: OfferedRequest): Promise<void> {
    const outcome = await requestRound(this.rt, ctx, {
      facts: this.facts,
      user: offer.user,
      serverName: offer.serverName,
      login: offer.login,
      closed: this.#closed.signal,
      onWaiting: () => this.hooks.waiting?.(),
    });
    if (outcome.kind === "end") {
      this.#denied = true;
      if (this.#closed.signal.aborted || outcome.text === "") return ctx.reject([]);
      try {
        sendAuthBanner(this.conn, outcome.text);
        disconnectWith(this.conn, DISCONNECT_NO_MORE_AUTH_METHODS_AVAILABLE, outcome.text);
      } catch (_e) {
        ctx.reject([]);
        this.conn.end();
      }
      return;
    }
    // approved: the policy reaches this worker's snapshot through policy_changed; then decide again
    this.#offered = null;
    sendAuthBanner(this.conn, requestApprovedText(outcome.requestId) + "\r\n");
    await this.#snapshotAllows(offer.user, ctx.username);
    return await this.#authorize(
      ctx,
      offer.user,
      offer.method,
      offer.password,
      offer.fp,
      null,
      false,
      this.#mfaPassed,
    );
  }

  /** Waits (a few seconds at most) until the snapshot has the new policy; the decision itself comes after. */
  async #snapshotAllows(user: User, username: string): Promise<void> {
    const until = Date.now() + 15_000;
    while (Date.now() < until && !this.#closed.signal.aborted) {
      const snap = this.rt.snapshot();
      const got = snap && authDecision(snap, {
        username,
        localIp: this.facts.localIp,
        sourceIp: this.facts.sourceIp,
        user,
        canAsk: false,
      }, this.rt.now());
      if (got && got.kind === "allow") return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  #grant(ctx: AuthContext, identity: JumpIdentity): void {
    this.identity = identity;
    // not awaited: the row is queued if the database is slow, the login is not
    void this.rt.audit(accessGranted(this.facts, {
      server: identity.server.name,
      login: identity.login,
      route: identity.route,
      policyId: identity.decision.policyId,
      method: identity.method,
      validUntil: identity.decision.validUntil,
    }));
    if (this.conn.authenticated === false && !this.#denied) ctx.accept();
  }

  async #secondFactor(ctx: KeyboardAuth, identity: CodeStep): Promise<void> {
    const code = await askCode(ctx);
    if (code === null) {
      return this.#fail(ctx, "keyboard-interactive", "mfa_no_answer", ["keyboard-interactive"]);
    }
    const owner: FactorOwner = { kind: "user", id: identity.user.id, name: identity.user.name };
    let keys;
    try {
      keys = await this.rt.deps.secretKey!();
    } catch (e) {
      this.rt.deps.log.error("cannot load the appliance secret for TOTP", {
        ref: this.facts.ref,
        error: String(e),
      });
      identity.backend?.client.end();
      return this.#deny(
        ctx,
        "mfa_unavailable",
        "appliance secret unreadable",
        unavailableText(this.facts.ref),
      );
    }
    // a pending factor (enrolled with the CLI) becomes active with its first correct code
    const r = await verifySecondFactor(this.rt.deps.sql, keys, owner, code, this.rt.now(), {
      allowPending: true,
    });
    const where = { server: identity.server, login: identity.login };
    if (!r.ok) {
      void this.rt.audit(mfaFailed(this.facts, { ...where, reason: r.reason }));
      if (r.reason === "unreadable") {
        identity.backend?.client.end();
        return this.#deny(ctx, "mfa_unavailable", "TOTP secret unreadable", unavailableText(this.facts.ref));
      }
      return this.#fail(ctx, "keyboard-interactive", `mfa_${r.reason}`, ["keyboard-interactive"]);
    }
    void this.rt.audit(mfaOk(this.facts, { ...where, method: r.method, confirmedNow: r.confirmedNow }));
    this.#awaitingCode = null;
    this.#mfaPassed = true;
    await identity.then(ctx);
  }

  #fail(ctx: AuthContext, method: string, outcome: string, methods: string[]): void {
    this.#attempts.push({ method, outcome });
    if (++this.#failures >= MAX_FAILURES) {
      this.#denied = true;
      this.#awaitingCode?.backend?.client.end();
      ctx.reject([]);
      void this.closedUnauthenticated();
      this.conn.end();
      return;
    }
    ctx.reject(methods);
  }

  #deny(
    ctx: AuthContext,
    reason: string,
    detail: string,
    text: string,
    extra: Parameters<typeof accessDenied>[3] = {},
  ): void {
    if (this.#denied) return ctx.reject([]);
    this.#denied = true;
    this.rt.deps.metrics?.denials.inc({ protocol: "ssh", reason });
    const event = accessDenied(this.facts, reason, detail, extra);
    // not identified yet (an unknown address, the database away): folded per source and reason per minute
    if (this.facts.userName === undefined) void this.rt.preauthAudit(event, reason);
    else void this.rt.audit(event);
    try {
      // the banner for clients that show it (OpenSSH at its default LogLevel, PuTTY); the same text as
      // the disconnect's description for `LogLevel ERROR`, which hides banners. No USERAUTH_FAILURE:
      // OpenSSH would give up on it and exit before reading the disconnect.
      sendAuthBanner(this.conn, text);
      disconnectWith(this.conn, DISCONNECT_NO_MORE_AUTH_METHODS_AVAILABLE, text);
    } catch (e) {
      this.rt.deps.log.warn("could not send the denial banner", {
        ref: this.facts.ref,
        error: (e as Error).message,
      });
      ctx.reject([]);
      this.conn.end();
    }
  }
}
