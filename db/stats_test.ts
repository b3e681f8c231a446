import assert from "node:assert/strict";
import { createTestDb } from "../tests/helpers/test_db.ts";
import { writeAudit } from "./audit.ts";
import { dashboardCounts } from "./stats.ts";

Deno.test("dashboardCounts: a summary row of folded denials counts as its count", async () => {
  const db = await createTestDb();
  try {
    const denied = { actor: "ip:10.0.0.9", sourceIp: "10.0.0.9", success: false } as const;
    await writeAudit(db.sql, {
      ...denied,
      action: "ssh.access_denied",
      details: { reason: "unknown_source_ip" },
    });
    await writeAudit(db.sql, {
      ...denied,
      action: "ssh.access_denied",
      details: { reason: "unknown_source_ip", aggregated: true, count: 41 },
    });
    await writeAudit(db.sql, { ...denied, actor: "unknown", action: "rdp.access_denied", details: {} });
    await writeAudit(db.sql, {
      ...denied,
      action: "ssh.auth_failed",
      details: { aggregated: true, count: 9 },
    });
    const c = await dashboardCounts(db.sql, new Date());
    assert.equal(c.denialsToday, 43);
  } finally {
    await db.close();
  }
});
