import assert from "node:assert/strict";
import { buildSnapshot, type Snapshot } from "../../policy/mod.ts";
import { at, HOUR, NOW, policy, server, user } from "../../policy/test_fixtures.ts";
import type { Clock } from "../../core/clock.ts";
import { Enforcer } from "./enforcement.ts";
import { parseSchedule } from "../../policy/schedule.ts";
import type { LiveConnection } from "./session_registry.ts";

/** A clock tests move by hand; timers fire when it passes them. */
class ManualClock implements Clock {
  #timers: { at: number; fn: () => void }[] = [];
  constructor(public t: number) {}
  now = () => this.t;
  setTimer(atMs: number, fn: () => void) {
    const timer = { at: atMs, fn };
    this.#timers.push(timer);
    return () => void (this.#timers = this.#timers.filter((x) => x !== timer));
  }
  advance(ms: number) {
    this.t += ms;
    for (const timer of this.#timers.filter((x) => x.at <= this.t)) {
      this.#timers = this.#timers.filter((x) => x !== timer);
      timer.fn();
    }
  }
}

function snapshotWith(...untilOffsets: (number | "revoked")[]): Snapshot {
  return buildSnapshot({
    users: [user(1, "alice", ["10.0.0.1/32"])],
    servers: [server(1, "win", { protocols: ["rdp"] })],
    policies: untilOffsets.map((u, i) =>
      policy(i + 1, u === "revoked" ? { revokedAt: at(-1) } : { validUntil: at(u) })
    ),
  });
}

function connection(untilOffset: number) {
  const ended: string[] = [];
  const c: LiveConnection = {
    sourceIp: "10.0.0.1",
    serverId: 1,
    cookie: null,
    provenUser: null,
    login: null,
    decision: {
      allowed: true,
      userId: 1,
      userName: "alice",
      serverId: 1,
      serverName: "win",
      policyId: 1,
      policyIds: [1],
      logins: [],
      portForwarding: false,
      validUntil: at(untilOffset),
      requireMfa: false,
    },
    terminate: (reason, detail) => void ended.push(`${reason}: ${detail}`),
  };
  return { c, ended };
}

Deno.test("Enforcer ends a connection when its grant expires, and not before", () => {
  const clock = new ManualClock(NOW.getTime());
  let snap = snapshotWith(HOUR);
  const e = new Enforcer(clock, { get: () => snap });
  const { c, ended } = connection(HOUR);
  e.track(c);
  clock.advance(HOUR - 1);
  assert.deepEqual(ended, []);
  snap = snapshotWith(HOUR); // unchanged grant: at its end, decide() says expired
  clock.advance(1);
  assert.equal(ended.length, 1);
  assert.match(ended[0], /^expired: /);
});

Deno.test("Enforcer follows a second grant that runs longer", () => {
  const clock = new ManualClock(NOW.getTime());
  const snap = snapshotWith(HOUR, 3 * HOUR);
  const e = new Enforcer(clock, { get: () => snap });
  const { c, ended } = connection(HOUR);
  e.track(c);
  clock.advance(HOUR);
  assert.deepEqual(ended, [], "policy 2 still allows");
  assert.equal(c.decision.validUntil.getTime(), at(3 * HOUR).getTime());
  clock.advance(2 * HOUR);
  assert.equal(ended.length, 1);
});

Deno.test("Enforcer ends connections on revoke when the snapshot changes; untracked ones are left alone", () => {
  const clock = new ManualClock(NOW.getTime());
  let snap = snapshotWith(HOUR);
  const e = new Enforcer(clock, { get: () => snap });
  const a = connection(HOUR);
  const b = connection(HOUR);
  e.track(a.c);
  const untrack = e.track(b.c);
  untrack();
  snap = snapshotWith("revoked");
  e.recheckAll();
  assert.equal(a.ended.length, 1);
  assert.match(a.ended[0], /^revoked: revoked/);
  assert.deepEqual(b.ended, []);
});

Deno.test("Enforcer fails closed at the grant's end when the policy store is unavailable", () => {
  const clock = new ManualClock(NOW.getTime());
  let snap: Snapshot | null = snapshotWith(HOUR);
  const e = new Enforcer(clock, { get: () => snap });
  const { c, ended } = connection(HOUR);
  e.track(c);
  snap = null;
  e.recheckAll(); // before the end: nothing to decide without the model
  assert.deepEqual(ended, []);
  clock.advance(HOUR);
  assert.equal(ended.length, 1);
  assert.match(ended[0], /^expired: grant ended \(policy store unavailable\)/);
});

Deno.test("Enforcer ends a connection at its weekly window's end as expired (NOW is Sunday 12:00 UTC)", () => {
  const clock = new ManualClock(NOW.getTime());
  const snap = buildSnapshot({
    users: [user(1, "alice", ["10.0.0.1/32"])],
    servers: [server(1, "win", { protocols: ["rdp"] })],
    policies: [policy(1, { schedules: [parseSchedule("Sun 10:00-12:30 UTC")] })],
  });
  const e = new Enforcer(clock, { get: () => snap });
  // admitted with the window's end as its end (decide() gives 12:30, before the grant's 13:00)
  const { c, ended } = connection(HOUR / 2);
  e.track(c);
  clock.advance(HOUR / 2 - 1);
  assert.deepEqual(ended, []);
  clock.advance(1);
  assert.equal(ended.length, 1);
  assert.match(ended[0], /^expired: outside_schedule: /);
});
