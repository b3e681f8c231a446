// Server groups and user groups: one list page with both, a page per group with its members.
import type { GroupKind, GroupRow } from "../../db/groups.ts";
import type { KeepFiles } from "../../db/file_keeping.ts";
import { Csrf, Empty, Field, Flash, FormError, type FormState, PostButton } from "./parts.tsx";

const LABEL: Record<GroupKind, string> = { server: "Server groups", user: "User groups" };
const MEMBER: Record<GroupKind, string> = { server: "servers", user: "users" };

function GroupTable(p: { kind: GroupKind; groups: GroupRow[] }) {
  return (
    <table id={`${p.kind}-groups`}>
      <thead>
        <tr>
          <th>Name</th>
          <th>Description</th>
          <th>Members</th>
        </tr>
      </thead>
      <tbody>
        {p.groups.length === 0 ? <Empty cols={3}>No groups.</Empty> : null}
        {p.groups.map((g) => (
          <tr key={g.id}>
            <td>
              <a href={`/groups/${p.kind}/${encodeURIComponent(g.name)}`}>{g.name}</a>
            </td>
            <td>{g.description ?? ""}</td>
            <td>{g.members.join(", ")}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function NewGroup(p: { kind: GroupKind; form: FormState; csrf: string }) {
  return (
    <form method="post" action={`/groups/${p.kind}`} id={`new-${p.kind}-group`}>
      <Csrf token={p.csrf} />
      <FormError form={p.form} />
      <Field form={p.form} name="name" label="Name" required />
      <Field form={p.form} name="description" label="Description" />
      <button type="submit">Create {p.kind} group</button>
    </form>
  );
}

export function GroupsPage(
  p: {
    server: GroupRow[];
    user: GroupRow[];
    csrf: string;
    forms: Partial<Record<GroupKind, FormState>>;
    flash?: string;
  },
) {
  return (
    <>
      <h1>Groups</h1>
      {p.flash ? <Flash kind="ok">{p.flash}</Flash> : null}
      <div class="grid2">
        {(["server", "user"] as const).map((k) => (
          <div class="panel" key={k}>
            <h2>{LABEL[k]}</h2>
            <GroupTable kind={k} groups={p[k]} />
            <h2>New {k} group</h2>
            <NewGroup kind={k} form={p.forms[k] ?? { values: {}, errors: {} }} csrf={p.csrf} />
          </div>
        ))}
      </div>
    </>
  );
}

export function GroupPage(
  p: {
    kind: GroupKind;
    g: GroupRow;
    candidates: string[];
    csrf: string;
    error?: string;
    flash?: string;
    /** server groups: whether scp/SFTP files are kept, and the cap per file */
    keep?: KeepFiles;
  },
) {
  const base = `/groups/${p.kind}/${encodeURIComponent(p.g.name)}`;
  const item = p.kind === "server" ? "servers" : "users";
  return (
    <>
      <h1>{p.kind === "server" ? "Server" : "User"} group {p.g.name}</h1>
      {p.flash ? <Flash kind="ok">{p.flash}</Flash> : null}
      {p.error ? <Flash kind="error">{p.error}</Flash> : null}
      <form method="post" action={`${base}/edit`} class="filters" id="edit-group">
        <Csrf token={p.csrf} />
        <label>
          Description
          <input name="description" value={p.g.description ?? ""} maxLength={500} />
        </label>
        <button type="submit" class="secondary">Save</button>
      </form>
      {p.keep
        ? (
          <form method="post" action={`${base}/keep-files`} class="filters" id="keep-files">
            <Csrf token={p.csrf} />
            <label>
              <input type="checkbox" name="keep_files" value="on" checked={p.keep.keep_files} />{" "}
              Keep files moved by scp/SFTP (by SHA-256, under the recordings directory)
            </label>
            <label>
              Up to MiB per file
              <input
                name="keep_files_max_mb"
                type="number"
                min={1}
                max={1048576}
                value={String(p.keep.keep_files_max_mb)}
              />
            </label>
            <button type="submit" class="secondary">Save</button>
          </form>
        )
        : null}
      <div class="actions">
        <PostButton
          action={`${base}/delete`}
          csrf={p.csrf}
          label="Delete group"
          danger
          confirm={`Delete group ${p.g.name}?`}
          id="delete-group"
        />
        <a
          class="button secondary"
          href={p.kind === "server"
            ? `/policies/new?scope_kind=server_group&scope=${encodeURIComponent(p.g.name)}`
            : `/policies/new?subject_kind=user_group&subject=${encodeURIComponent(p.g.name)}`}
        >
          Grant access…
        </a>
      </div>
      <div class="panel">
        <h2>Members ({MEMBER[p.kind]})</h2>
        <table id="group-members">
          <tbody>
            {p.g.members.length === 0 ? <Empty cols={2}>No members.</Empty> : null}
            {p.g.members.map((m) => (
              <tr key={m}>
                <td>
                  <a href={`/${item}/${encodeURIComponent(m)}`}>{m}</a>
                </td>
                <td>
                  <form method="post" action={`${base}/members/remove`}>
                    <Csrf token={p.csrf} />
                    <input type="hidden" name="member" value={m} />
                    <button type="submit" class="secondary">Remove</button>
                  </form>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <form method="post" action={`${base}/members/add`} class="filters" id="add-member">
          <Csrf token={p.csrf} />
          <label>
            Add {p.kind}
            <select name="member">
              {p.candidates.map((n) => <option key={n} value={n}>{n}</option>)}
            </select>
          </label>
          <button type="submit" disabled={p.candidates.length === 0}>Add</button>
        </form>
      </div>
    </>
  );
}
