// servers, their pool IP allocations, pinned SSH host keys and RDP certificates.
import type { Sql, TxSql } from "./client.ts";
import { writeAudit } from "./audit.ts";
import { type ActorRef, type AuditEvent, changeEvent } from "./audit_events.ts";
import { checkName, InputError, NotFoundError } from "./errors.ts";
import {
  allocateIp,
  blockingAddresses,
  checkExplicitPoolIp,
  type ReservedAddress,
} from "../policy/ip_pool.ts";
import { PolicyInputError } from "../policy/errors.ts";
import {
  DEFAULT_PASSWORD_PASSTHROUGH,
  DEFAULT_RDP_SECURITY,
  isProtocol,
  isRdpSecurity,
  type Protocol,
  type RdpSecurity,
} from "../policy/model.ts";
import { normaliseCertFingerprint } from "./rdp_cert_pins.ts";

export interface ServerRow {
  id: number;
  name: string;
  address: string;
  ssh_port: number;
  rdp_port: number;
  protocols: Protocol[];
  pool_ip: string | null;
  rdp_listen_port: number | null;
  host_key: string | null;
  host_key_pinned_at: Date | null;
  /** SHA-256 of the RDP backend's TLS certificate, pinned on first use ("AA:BB:…"). */
  rdp_cert_sha256: string | null;
  rdp_cert_pinned_at: Date | null;
  /** nla | tls | any, see policy/model.ts RdpSecurity */
  rdp_security: RdpSecurity;
  /** every SSH login to this server needs a second factor */
  require_mfa: boolean;
  /** the password typed at the jump may be handed to this backend (SSH and RDP) */
  password_passthrough: boolean;
  description: string | null;
  active: boolean;
  created_at: Date;
  groups: string[];
}

/** "auto" allocates from the pool, "none" clears, anything else is an explicit IP. */
export type PoolIpChoice = "auto" | "none" | string;

export interface ServerInput {
  name: string;
  address: string;
  sshPort?: number;
  rdpPort?: number;
  protocols?: string[];
  poolIp?: PoolIpChoice;
  rdpListenPort?: number | null;
  rdpSecurity?: string;
  /** default: on (DEFAULT_PASSWORD_PASSTHROUGH) */
  passwordPassthrough?: boolean;
  description?: string | null;
}

export interface ServerPatch {
  address?: string;
  sshPort?: number;
  rdpPort?: number;
  protocols?: string[];
  poolIp?: PoolIpChoice;
  rdpListenPort?: number | null;
  rdpSecurity?: string;
  passwordPassthrough?: boolean;
  description?: string | null;
  active?: boolean;
  /** set (admin-provided) or clear (null) the pinned backend host key */
  hostKey?: string | null;
  /** set (admin-provided SHA-256) or clear (null) the pinned RDP certificate */
  rdpCertSha256?: string | null;
  /** every SSH login to this server needs a second factor */
  requireMfa?: boolean;
}

const SELECT_SERVER = (sql: Sql | TxSql) =>
  sql`
  SELECT s.id, s.name, s.address, s.ssh_port, s.rdp_port, s.protocols, host(s.pool_ip) AS pool_ip,
         s.rdp_listen_port, s.host_key, s.host_key_pinned_at, s.rdp_cert_sha256,
         s.rdp_cert_pinned_at, s.rdp_security, s.require_mfa, s.password_passthrough, s.description, s.active,
         s.created_at,
         COALESCE((SELECT array_agg(g.name ORDER BY g.name) FROM server_group_members m
                   JOIN server_groups g ON g.id = m.group_id WHERE m.server_id = s.id), '{}') AS groups
  FROM servers s`;

export async function listServers(sql: Sql, opts: { search?: string } = {}): Promise<ServerRow[]> {
  const like = opts.search ? `%${opts.search.replace(/[\\%_]/g, (c) => "\\" + c)}%` : null;
  return await sql<ServerRow[]>`${SELECT_SERVER(sql)}
    ${like ? sql`WHERE s.name ILIKE ${like} OR s.address ILIKE ${like}` : sql``} ORDER BY s.name`;
}

export async function findServer(sql: Sql | TxSql, name: string): Promise<ServerRow | null> {
  const rows = await sql<ServerRow[]>`${SELECT_SERVER(sql)} WHERE s.name = ${name}`;
  return rows[0] ?? null;
}

export async function getServer(sql: Sql | TxSql, name: string): Promise<ServerRow> {
  const s = await findServer(sql, name);
  if (!s) throw new NotFoundError("server", name);
  return s;
}

function checkPort(field: string, v: number | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!Number.isInteger(v) || v < 1 || v > 65535) throw new InputError(field, `${field} must be 1-65535`);
  return v;
}

function checkProtocols(list: string[] | undefined): Protocol[] | undefined {
  if (list === undefined) return undefined;
  const out = [...new Set(list.map((p) => p.trim().toLowerCase()).filter((p) => p !== ""))];
  if (out.length === 0) throw new InputError("protocols", "protocols must list ssh and/or rdp");
  for (const p of out) {
    if (!isProtocol(p)) throw new InputError("protocols", `unknown protocol "${p}" (ssh, rdp)`);
  }
  return out as Protocol[];
}

function checkRdpSecurity(v: string | undefined): RdpSecurity | undefined {
  if (v === undefined) return undefined;
  const s = v.trim().toLowerCase();
  if (!isRdpSecurity(s)) throw new InputError("rdp_security", `RDP security "${v}" must be nla, tls or any`);
  return s;
}

function checkAddress(a: string): string {
  const v = a.trim();
  if (!/^[A-Za-z0-9.:_-]{1,255}$/.test(v)) {
    throw new InputError("address", `address "${a}" is not a host name or IP`);
  }
  return v;
}

const POOL_LOCK = 7_346_012_002;

/**
 * Resolves a pool choice to an IP, allocating under a lock so concurrent adds never collide. `reserved` are
 * addresses no pool IP may be (the machine's own, the configured listen and database addresses).
 */
async function resolvePoolIp(
  tx: TxSql,
  choice: PoolIpChoice,
  pool: string | null,
  serverId: number,
  reserved: ReservedAddress[],
) {
  if (choice === "none") return null;
  await tx`SELECT pg_advisory_xact_lock(${POOL_LOCK})`;
  const used =
    (await tx<{ ip: string }[]>`SELECT host(ip) AS ip FROM ip_allocations WHERE released_at IS NULL`)
      .map((r) => r.ip);
  // every address ever allocated: `pool apply` put them on the machine, which does not make them its own
  const everAllocated = (await tx<{ ip: string }[]>`SELECT DISTINCT host(ip) AS ip FROM ip_allocations`)
    .map((r) => r.ip);
  let ip: string;
  if (choice === "auto") {
    if (!pool) {
      throw new InputError("pool_ip", "no IP pool configured (set ip_pool / --ip-pool) for --pool-ip auto");
    }
    ip = allocateIp(pool, used, { reserved: blockingAddresses(reserved, everAllocated) });
  } else {
    try {
      ip = checkExplicitPoolIp(choice, pool, reserved, everAllocated);
    } catch (e) {
      if (e instanceof PolicyInputError) throw new InputError("pool_ip", `pool IP "${choice}": ${e.message}`);
      throw e;
    }
    if (used.includes(ip)) throw new InputError("pool_ip", `pool IP ${ip} is already allocated`);
  }
  await tx`INSERT INTO ip_allocations (ip, server_id) VALUES (${ip}::inet, ${serverId})`;
  return ip;
}

async function releasePoolIp(tx: TxSql, serverId: number): Promise<string | null> {
  const r = await tx<{ ip: string }[]>`UPDATE ip_allocations SET released_at = now()
    WHERE server_id = ${serverId} AND released_at IS NULL RETURNING host(ip) AS ip`;
  return r[0]?.ip ?? null;
}

export async function createServer(
  sql: Sql,
  input: ServerInput,
  actor: ActorRef,
  pool: string | null,
  reserved: ReservedAddress[] = [],
) {
  const name = checkName("name", input.name);
  const address = checkAddress(input.address);
  const protocols = checkProtocols(input.protocols) ?? ["ssh"];
  const sshPort = checkPort("ssh_port", input.sshPort) ?? 22;
  const rdpPort = checkPort("rdp_port", input.rdpPort) ?? 3389;
  const rdpListenPort = input.rdpListenPort == null
    ? null
    : checkPort("rdp_listen_port", input.rdpListenPort)!;
  const rdpSecurity = checkRdpSecurity(input.rdpSecurity) ?? DEFAULT_RDP_SECURITY;
  const passthrough = input.passwordPassthrough ?? DEFAULT_PASSWORD_PASSTHROUGH;
  return await sql.begin(async (tx) => {
    if ((await tx`SELECT 1 FROM servers WHERE name = ${name}`).length) {
      throw new InputError("name", `server "${name}" already exists`);
    }
    if (
      rdpListenPort !== null &&
      (await tx`SELECT 1 FROM servers WHERE rdp_listen_port = ${rdpListenPort}`).length
    ) {
      throw new InputError("rdp_listen_port", `RDP listen port ${rdpListenPort} is used by another server`);
    }
    const [{ id }] = await tx<{ id: number }[]>`
      INSERT INTO servers (name, address, ssh_port, rdp_port, protocols, rdp_listen_port, rdp_security,
                           password_passthrough, description)
      VALUES (${name}, ${address}, ${sshPort}, ${rdpPort}, ${protocols}, ${rdpListenPort}, ${rdpSecurity},
              ${passthrough}, ${input.description?.trim() || null}) RETURNING id`;
    const ip = await resolvePoolIp(tx, input.poolIp ?? "none", pool, id, reserved);
    if (ip) await tx`UPDATE servers SET pool_ip = ${ip}::inet WHERE id = ${id}`;
    // audit rows last: each holds the chain lock until commit (db/audit.ts)
    if (ip) await writeAudit(tx, changeEvent(actor, "pool.allocate", name, { ip }));
    await writeAudit(
      tx,
      changeEvent(actor, "server.create", name, {
        address,
        protocols,
        pool_ip: ip,
        rdp_security: rdpSecurity,
        password_passthrough: passthrough,
      }),
    );
    return await getServer(tx, name);
  }) as ServerRow;
}

export async function updateServer(
  sql: Sql,
  name: string,
  patch: ServerPatch,
  actor: ActorRef,
  pool: string | null,
  reserved: ReservedAddress[] = [],
) {
  return await sql.begin(async (tx) => {
    const s = await getServer(tx, name);
    const changed: Record<string, unknown> = {};
    // written after every change: an audit row holds the chain lock until commit (db/audit.ts)
    const events: AuditEvent[] = [];
    const set = async (col: string, value: unknown) => {
      changed[col] = value;
      await tx`UPDATE servers SET ${tx({ [col]: value } as Record<string, never>)}, updated_at = now()
               WHERE id = ${s.id}`;
    };
    if (patch.address !== undefined) await set("address", checkAddress(patch.address));
    if (patch.sshPort !== undefined) await set("ssh_port", checkPort("ssh_port", patch.sshPort));
    if (patch.rdpPort !== undefined) await set("rdp_port", checkPort("rdp_port", patch.rdpPort));
    if (patch.protocols !== undefined) await set("protocols", checkProtocols(patch.protocols));
    if (patch.description !== undefined) await set("description", patch.description?.trim() || null);
    if (patch.active !== undefined) await set("active", patch.active);
    if (patch.rdpSecurity !== undefined) await set("rdp_security", checkRdpSecurity(patch.rdpSecurity));
    if (patch.requireMfa !== undefined) await set("require_mfa", patch.requireMfa);
    if (patch.passwordPassthrough !== undefined) {
      await set("password_passthrough", patch.passwordPassthrough === true);
    }
    if (patch.rdpListenPort !== undefined) {
      const p = patch.rdpListenPort === null ? null : checkPort("rdp_listen_port", patch.rdpListenPort)!;
      if (
        p !== null && (await tx`SELECT 1 FROM servers WHERE rdp_listen_port = ${p} AND id <> ${s.id}`).length
      ) {
        throw new InputError("rdp_listen_port", `RDP listen port ${p} is used by another server`);
      }
      await set("rdp_listen_port", p);
    }
    if (patch.hostKey !== undefined) {
      await tx`UPDATE servers SET host_key = ${patch.hostKey}, host_key_pinned_at = ${
        patch.hostKey ? new Date() : null
      }
               WHERE id = ${s.id}`;
      events.push(
        changeEvent(actor, patch.hostKey ? "server.host_key_pinned" : "server.host_key_reset", name, {}),
      );
    }
    if (patch.rdpCertSha256 !== undefined) {
      const fp = patch.rdpCertSha256 === null ? null : normaliseCertFingerprint(patch.rdpCertSha256);
      await tx`UPDATE servers SET rdp_cert_sha256 = ${fp}, rdp_cert_pinned_at = ${fp ? new Date() : null}
               WHERE id = ${s.id}`;
      const action = fp ? "server.rdp_cert_pinned" : "server.rdp_cert_reset";
      events.push(changeEvent(actor, action, name, fp ? { sha256: fp } : {}));
    }
    if (patch.poolIp !== undefined) {
      const old = await releasePoolIp(tx, s.id);
      await tx`UPDATE servers SET pool_ip = NULL WHERE id = ${s.id}`;
      if (old) events.push(changeEvent(actor, "pool.release", name, { ip: old }));
      const ip = await resolvePoolIp(tx, patch.poolIp, pool, s.id, reserved);
      if (ip) {
        await tx`UPDATE servers SET pool_ip = ${ip}::inet WHERE id = ${s.id}`;
        events.push(changeEvent(actor, "pool.allocate", name, { ip }));
      }
      changed.pool_ip = ip;
    }
    const updated = await getServer(tx, name);
    for (const e of events) await writeAudit(tx, e);
    await writeAudit(tx, changeEvent(actor, "server.update", name, changed));
    return updated;
  }) as ServerRow;
}

export async function deleteServer(sql: Sql, name: string, actor: ActorRef): Promise<void> {
  await sql.begin(async (tx) => {
    const s = await getServer(tx, name);
    const ip = await releasePoolIp(tx, s.id);
    await tx`DELETE FROM servers WHERE id = ${s.id}`;
    // audit rows last: each holds the chain lock until commit (db/audit.ts)
    if (ip) await writeAudit(tx, changeEvent(actor, "pool.release", name, { ip }));
    await writeAudit(tx, changeEvent(actor, "server.delete", name, { id: s.id }));
  });
}

/**
 * Trust on first use: stores `key` if none is pinned yet. Returns the pinned key afterwards, so the caller
 * compares it with what the backend presented (a different key = mismatch).
 */
export async function pinHostKey(sql: Sql, serverId: number, key: string, actor: string): Promise<string> {
  return await sql.begin(async (tx) => {
    const r = await tx<{ name: string }[]>`UPDATE servers SET host_key = ${key}, host_key_pinned_at = now()
      WHERE id = ${serverId} AND host_key IS NULL RETURNING name`;
    if (r.length) {
      await writeAudit(tx, changeEvent(actor, "server.host_key_pinned", r[0].name, { tofu: true }));
    }
    const [row] = await tx<
      { host_key: string | null }[]
    >`SELECT host_key FROM servers WHERE id = ${serverId}`;
    if (!row?.host_key) throw new NotFoundError("server", String(serverId));
    return row.host_key;
  }) as string;
}

export async function poolAllocations(sql: Sql) {
  return await sql<{ ip: string; server: string | null; allocated_at: Date; released_at: Date | null }[]>`
    SELECT host(a.ip) AS ip, s.name AS server, a.allocated_at, a.released_at
    FROM ip_allocations a LEFT JOIN servers s ON s.id = a.server_id ORDER BY a.allocated_at DESC`;
}
