// TOTP factors at rest against a real PostgreSQL: sealed secrets, pending until a code, a code once, recovery
// codes once, the lock after ten wrong codes, reset.
import assert from "node:assert/strict";
import { createTestDb } from "../tests/helpers/test_db.ts";
import { createUser } from "./users.ts";
import {
  enrolTotp,
  LOCK_MS,
  MAX_CODE_FAILURES,
  resetTotp,
  totpFactorOf,
  verifySecondFactor,
} from "./totp.ts";
import { listAudit } from "./audit.ts";
import { secretKey } from "../core/secret_box.ts";
import { totpCode } from "../policy/totp.ts";

const key = secretKey(crypto.getRandomValues(new Uint8Array(32)));
const otherKey = secretKey(crypto.getRandomValues(new Uint8Array(32)));

Deno.test("TOTP factor: pending, confirmed by a code, a code once, recovery codes once, locked after ten wrong codes", async () => {
  const db = await createTestDb();
  try {
    const sql = db.sql;
    const u = await createUser(sql, { name: "tina" }, "test");
    const o = { kind: "user" as const, id: u.id, name: "tina" };
    const e = await enrolTotp(sql, key, o, "test");
    const [row] = await sql<{ secret_sealed: string }[]>`SELECT secret_sealed FROM totp_factors`;
    assert.match(row.secret_sealed, /^sb1\./);
    assert.ok(!row.secret_sealed.includes(e.secret));
    const t0 = new Date(1_800_000_000_000);
    const at = (s: number) => new Date(t0.getTime() + s * 1000);
    const code = (s: number) => totpCode(e.secret, at(s).getTime());

    // pending: a console login ignores it; the SSH prompt (allowPending) confirms it
    assert.deepEqual(await verifySecondFactor(sql, key, o, code(0), at(0)), { ok: false, reason: "pending" });
    const first = await verifySecondFactor(sql, key, o, code(0), at(0), { allowPending: true });
    assert.deepEqual(first, { ok: true, method: "totp", confirmedNow: true, recoveryCodesLeft: 10 });
    assert.equal((await totpFactorOf(sql, o))?.confirmed, true);
    assert.deepEqual(await verifySecondFactor(sql, key, o, code(0), at(5)), { ok: false, reason: "reused" });
    assert.deepEqual(await verifySecondFactor(sql, [otherKey], o, code(30), at(30)), {
      ok: false,
      reason: "unreadable",
    });
    assert.equal((await verifySecondFactor(sql, [otherKey, key], o, code(30), at(30))).ok, true);

    const rc = e.recoveryCodes[2];
    const r1 = await verifySecondFactor(sql, key, o, rc, at(40));
    assert.deepEqual(r1, { ok: true, method: "recovery_code", confirmedNow: false, recoveryCodesLeft: 9 });
    assert.deepEqual(await verifySecondFactor(sql, key, o, rc, at(41)), { ok: false, reason: "wrong" });
    assert.equal((await listAudit(sql, { action: "mfa.recovery_code_used" })).length, 1);

    // ten wrong codes in a row (one above already) lock the factor: even the right code is refused
    for (let i = 0; i < MAX_CODE_FAILURES - 2; i++) {
      assert.equal((await verifySecondFactor(sql, key, o, "000000", at(60))).ok, false);
    }
    assert.deepEqual(await verifySecondFactor(sql, key, o, "000001", at(60)), {
      ok: false,
      reason: "locked",
    });
    assert.deepEqual(await verifySecondFactor(sql, key, o, code(90), at(90)), {
      ok: false,
      reason: "locked",
    });
    const later = (LOCK_MS / 1000) + 120;
    assert.equal((await verifySecondFactor(sql, key, o, code(later), at(later))).ok, true);

    // an active factor is not enrolled over; a reset removes it and its codes
    await assert.rejects(enrolTotp(sql, key, o, "test"), /already has an active TOTP factor/);
    assert.equal(await resetTotp(sql, o, "admin:test"), true);
    assert.equal(await totpFactorOf(sql, o), null);
    assert.equal(Number((await sql`SELECT count(*) AS n FROM totp_recovery_codes`)[0].n), 0);
    assert.deepEqual(await verifySecondFactor(sql, key, o, code(later + 30), at(later + 30)), {
      ok: false,
      reason: "no_factor",
    });
  } finally {
    await db.close();
  }
});
