import assert from "node:assert/strict";
import { SetupCounter } from "./setup_guard.ts";

Deno.test("SetupCounter caps connections in setup per source and per listener", () => {
  const c = new SetupCounter({ perListener: 4, perSource: 2 });
  assert.equal(c.admit("a", "10.0.0.1"), "ok");
  assert.equal(c.admit("a", "10.0.0.1"), "ok");
  assert.equal(c.admit("b", "10.0.0.1"), "source_full", "the source cap spans listeners");
  assert.equal(c.admit("a", "10.0.0.2"), "ok");
  assert.equal(c.admit("a", "10.0.0.3"), "ok");
  assert.equal(c.admit("a", "10.0.0.4"), "listener_full");
  assert.equal(c.admit("b", "10.0.0.4"), "ok", "another listener has its own cap");
  assert.equal(c.inSetup("a"), 4);
  assert.equal(c.inSetup(), 5);
  c.release("a", "10.0.0.1");
  assert.equal(c.admit("a", "10.0.0.1"), "ok", "a released slot is free again");
  for (const s of ["10.0.0.1", "10.0.0.1", "10.0.0.2", "10.0.0.3"]) c.release("a", s);
  c.release("b", "10.0.0.4");
  assert.equal(c.inSetup(), 0);
});

Deno.test("SetupCounter keeps a reserve for sources in a user's CIDR that an anonymous flood cannot take", () => {
  const c = new SetupCounter({ perListener: 3, perSource: 2, knownReserve: 2 });
  for (const s of ["10.9.0.1", "10.9.0.2", "10.9.0.3"]) assert.equal(c.admit("a", s), "ok");
  assert.equal(c.admit("a", "10.9.0.4"), "listener_full", "anonymous: the listener is full");
  assert.equal(c.admit("a", "10.0.0.1", true), "ok", "a known source gets a reserved slot");
  assert.equal(c.admit("a", "10.0.0.2", true), "ok");
  assert.equal(c.admit("a", "10.0.0.3", true), "listener_full", "the reserve is bounded too");
  assert.equal(c.admit("a", "10.0.0.1", true), "listener_full");
  c.release("a", "10.9.0.1");
  assert.equal(c.admit("a", "10.9.0.4"), "listener_full", "anonymous sources never reach into the reserve");
  c.release("a", "10.0.0.1");
  assert.equal(c.admit("a", "10.0.0.1", true), "ok");
});
