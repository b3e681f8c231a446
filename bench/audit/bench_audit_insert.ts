// The cost of the audit hash chain on inserts: writeAudit into a fresh test database with the chaining
// trigger (as shipped) and with it removed (the table as before migration 013), one writer and 8 writers
// at once. Run: deno run -A bench/audit/bench_audit_insert.ts [N]
import { createTestDb } from "../../tests/helpers/test_db.ts";
import { connect, type Sql } from "../../db/client.ts";
import { writeAudit } from "../../db/audit.ts";
import { TEST_PG_DIR } from "../../tests/helpers/test_db.ts";

const N = Number(Deno.args[0] ?? 3000);

const event = (i: number) => ({
  actor: "alice",
  action: "ssh.session_start" as const,
  target: "web1",
  sourceIp: "10.0.0.1",
  success: true,
  details: { session_id: crypto.randomUUID(), server: "web1", login: "root", i },
});

async function run(label: string, unchained: boolean): Promise<void> {
  const db = await createTestDb();
  try {
    if (unchained) {
      await db.sql.unsafe(
        `DROP TRIGGER audit_log_chain ON audit_log; DROP TRIGGER audit_log_chain_head ON audit_log;
        ALTER TABLE audit_log ALTER COLUMN id SET DEFAULT nextval('audit_log_id_seq'),
          ALTER COLUMN prev_hash DROP NOT NULL, ALTER COLUMN hash DROP NOT NULL`,
      );
    }
    for (let i = 0; i < 200; i++) await writeAudit(db.sql, event(i)); // warm up
    let t = performance.now();
    for (let i = 0; i < N; i++) await writeAudit(db.sql, event(i));
    const serial = (performance.now() - t) / N;
    const pools: Sql[] = Array.from(
      { length: 8 },
      () => connect({ socketDir: TEST_PG_DIR, database: db.name }, { max: 1 }),
    );
    t = performance.now();
    await Promise.all(pools.map(async (sql) => {
      for (let i = 0; i < N / 8; i++) await writeAudit(sql, event(i));
    }));
    const parallelMs = performance.now() - t;
    await Promise.all(pools.map((p) => p.end()));
    console.log(
      `${label.padEnd(10)} serial ${serial.toFixed(3)} ms/insert (${Math.round(1000 / serial)}/s); ` +
        `8 writers ${Math.round(N / (parallelMs / 1000))} inserts/s`,
    );
  } finally {
    await db.close();
  }
}

await run("unchained", true);
await run("chained", false);
await run("unchained", true);
await run("chained", false);
