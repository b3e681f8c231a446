// Which second factors a console account has: what its login's second step offers.
import type { Sql } from "../../db/client.ts";
import { hasPasskey } from "../../db/console_passkeys.ts";
import { totpFactorOf } from "../../db/totp.ts";

export async function secondFactorsOf(
  sql: Sql,
  userId: number,
): Promise<{ totp: boolean; passkey: boolean }> {
  const [factor, passkey] = await Promise.all([
    totpFactorOf(sql, { kind: "console", id: userId, name: "" }),
    hasPasskey(sql, userId),
  ]);
  return { totp: factor?.confirmed ?? false, passkey };
}
