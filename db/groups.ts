// server groups and user groups with their memberships (same shape, two table families).
import type { Sql, TxSql } from "./client.ts";
import { writeAudit } from "./audit.ts";
import { type ActorRef, changeEvent } from "./audit_events.ts";
import { checkName, InputError, NotFoundError } from "./errors.ts";

export type GroupKind = "server" | "user";

export interface GroupRow {
  id: number;
  name: string;
  description: string | null;
  created_at: Date;
  members: string[];
}

// Table names come from this fixed map only (never from input), so sql(identifier) stays safe.
const T = {
  server: { groups: "server_groups", members: "server_group_members", fk: "server_id", items: "servers" },
  user: { groups: "user_groups", members: "user_group_members", fk: "user_id", items: "users" },
} as const;

const A = {
  server: {
    create: "group.create",
    update: "group.update",
    del: "group.delete",
    add: "group.member_add",
    rm: "group.member_remove",
  },
  user: {
    create: "usergroup.create",
    update: "usergroup.update",
    del: "usergroup.delete",
    add: "usergroup.member_add",
    rm: "usergroup.member_remove",
  },
} as const;

function selectGroups(sql: Sql | TxSql, kind: GroupKind) {
  const t = T[kind];
  return sql`SELECT g.id, g.name, g.description, g.created_at,
      COALESCE((SELECT array_agg(i.name ORDER BY i.name) FROM ${sql(t.members)} m
                JOIN ${sql(t.items)} i ON i.id = m.${sql(t.fk)} WHERE m.group_id = g.id), '{}') AS members
    FROM ${sql(t.groups)} g`;
}

export async function listGroups(sql: Sql, kind: GroupKind): Promise<GroupRow[]> {
  return await sql<GroupRow[]>`${selectGroups(sql, kind)} ORDER BY g.name`;
}

export async function getGroup(sql: Sql | TxSql, kind: GroupKind, name: string): Promise<GroupRow> {
  const [g] = await sql<GroupRow[]>`${selectGroups(sql, kind)} WHERE g.name = ${name}`;
  if (!g) throw new NotFoundError(kind === "server" ? "server group" : "user group", name);
  return g;
}

export async function createGroup(
  sql: Sql,
  kind: GroupKind,
  input: { name: string; description?: string | null },
  actor: ActorRef,
): Promise<GroupRow> {
  const name = checkName("name", input.name);
  return await sql.begin(async (tx) => {
    if ((await tx`SELECT 1 FROM ${tx(T[kind].groups)} WHERE name = ${name}`).length) {
      throw new InputError(
        "name",
        `${kind === "server" ? "server group" : "user group"} "${name}" already exists`,
      );
    }
    await tx`INSERT INTO ${tx(T[kind].groups)} (name, description) VALUES (${name}, ${
      input.description || null
    })`;
    await writeAudit(tx, changeEvent(actor, A[kind].create, name));
    return await getGroup(tx, kind, name);
  }) as GroupRow;
}

export async function updateGroupDescription(
  sql: Sql,
  kind: GroupKind,
  name: string,
  description: string | null,
  actor: ActorRef,
): Promise<GroupRow> {
  const text = description?.trim() || null;
  if (text !== null && text.length > 500) {
    throw new InputError("description", "description is longer than 500 characters");
  }
  return await sql.begin(async (tx) => {
    const g = await getGroup(tx, kind, name);
    await tx`UPDATE ${tx(T[kind].groups)} SET description = ${text} WHERE id = ${g.id}`;
    await writeAudit(tx, changeEvent(actor, A[kind].update, name, { description: text }));
    return await getGroup(tx, kind, name);
  }) as GroupRow;
}

export async function deleteGroup(sql: Sql, kind: GroupKind, name: string, actor: ActorRef): Promise<void> {
  await sql.begin(async (tx) => {
    const g = await getGroup(tx, kind, name);
    await tx`DELETE FROM ${tx(T[kind].groups)} WHERE id = ${g.id}`;
    await writeAudit(tx, changeEvent(actor, A[kind].del, name, { members: g.members }));
  });
}

export async function setMembership(
  sql: Sql,
  kind: GroupKind,
  groupName: string,
  memberNames: string[],
  add: boolean,
  actor: ActorRef,
): Promise<GroupRow> {
  const t = T[kind];
  return await sql.begin(async (tx) => {
    const g = await getGroup(tx, kind, groupName);
    for (const m of memberNames) {
      const [item] = await tx<{ id: number }[]>`SELECT id FROM ${tx(t.items)} WHERE name = ${m}`;
      if (!item) throw new NotFoundError(kind, m);
      if (add) {
        await tx`INSERT INTO ${tx(t.members)} (group_id, ${tx(t.fk)}) VALUES (${g.id}, ${item.id})
                 ON CONFLICT DO NOTHING`;
      } else {
        const r = await tx`DELETE FROM ${tx(t.members)} WHERE group_id = ${g.id} AND ${
          tx(t.fk)
        } = ${item.id}`;
        if (r.count === 0) throw new InputError("member", `${m} is not a member of ${groupName}`);
      }
      await writeAudit(tx, changeEvent(actor, add ? A[kind].add : A[kind].rm, groupName, { member: m }));
    }
    return await getGroup(tx, kind, groupName);
  }) as GroupRow;
}
