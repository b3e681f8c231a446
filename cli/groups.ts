// jumphost group … (server groups) and jumphost usergroup … (user groups): the same verbs.
import { bool, int, parseArgs, positional, str, UsageError } from "./args.ts";
import type { Command } from "./command.ts";
import { json, printList, table } from "./output.ts";
import { cliActor } from "../db/audit_events.ts";
import {
  createGroup,
  deleteGroup,
  getGroup,
  type GroupKind,
  listGroups,
  setMembership,
  updateGroupDescription,
} from "../db/groups.ts";
import { keepFilesOfGroup, setKeepFiles } from "../db/file_keeping.ts";
import { requestRulesOfGroup, setRequestRules } from "../db/request_rules.ts";

function groupCommand(kind: GroupKind, name: string, memberWord: string): Command {
  const usage = `jumphost ${name} add NAME [--description D]\n` +
    `       jumphost ${name} list [--json]\n` +
    `       jumphost ${name} show NAME [--json]\n` +
    (kind === "server"
      ? `       jumphost ${name} edit NAME [--description D] [--keep-files on|off] [--keep-files-max-mb N]\n` +
        `                      [--approvals N] [--max-request-minutes M] [--approvers a,b | --approvers '']\n`
      : `       jumphost ${name} edit NAME --description D\n`) +
    `       jumphost ${name} delete NAME\n` +
    `       jumphost ${name} member add|remove GROUP ${memberWord.toUpperCase()}...`;
  return {
    name,
    summary: kind === "server"
      ? "manage server groups and their members"
      : "manage user groups and their members",
    usage,
    async run(ctx, argv) {
      const [sub, ...rest] = argv;
      const actor = cliActor();
      switch (sub) {
        case "add": {
          const p = parseArgs(rest, { strings: ["description"] });
          const g = await createGroup(await ctx.db(), kind, {
            name: positional(p, 0, "NAME"),
            description: str(p, "description"),
          }, actor);
          ctx.out.line(bool(p, "json") ? json(g) : `${name} ${g.name} created (id ${g.id})`);
          return 0;
        }
        case "list": {
          const p = parseArgs(rest);
          const groups = await listGroups(await ctx.db(), kind);
          printList(
            ctx.out,
            bool(p, "json"),
            ["name", "members", "description"],
            groups.map((g) => [g.name, g.members.join(","), g.description]),
            groups,
          );
          return 0;
        }
        case "show": {
          const p = parseArgs(rest);
          const sql = await ctx.db();
          const g = await getGroup(sql, kind, positional(p, 0, "NAME"));
          const keep = kind === "server" ? await keepFilesOfGroup(sql, g.name) : null;
          const req = kind === "server" ? await requestRulesOfGroup(sql, g.name) : null;
          if (bool(p, "json")) ctx.out.line(json({ ...g, ...keep, ...req }));
          else {
            ctx.out.line(table(["field", "value"], [
              ["name", g.name],
              ["description", g.description],
              ["created", g.created_at],
              ...(keep
                ? [[
                  "keep files",
                  keep.keep_files ? `on (up to ${keep.keep_files_max_mb} MiB per file)` : "off",
                ]]
                : []),
              ...(req
                ? [[
                  "access requests",
                  `${req.request_approvals} approval(s), at most ${req.request_max_minutes} min, approvers: ` +
                  (req.request_approvers.join(", ") || "admins and operators"),
                ]]
                : []),
            ]));
            ctx.out.line(`\n${memberWord}s:`);
            ctx.out.line(table([memberWord], g.members.map((m) => [m])));
          }
          return 0;
        }
        case "edit": {
          const p = parseArgs(rest, {
            strings: [
              "description",
              "keep-files",
              "keep-files-max-mb",
              "approvals",
              "max-request-minutes",
              "approvers",
            ],
          });
          const group = positional(p, 0, "NAME");
          const d = str(p, "description");
          const keep = str(p, "keep-files");
          const maxMb = int(p, "keep-files-max-mb", 1, 1048576);
          const approvals = int(p, "approvals", 1, 10);
          const maxReq = int(p, "max-request-minutes", 1, 10080);
          const approversText = str(p, "approvers");
          const approvers = approversText === undefined
            ? undefined
            : approversText.split(",").map((a) => a.trim()).filter(Boolean);
          const rules = approvals !== undefined || maxReq !== undefined || approvers !== undefined;
          if (kind === "user" && (keep !== undefined || maxMb !== undefined || rules)) {
            throw new UsageError(
              "--keep-files and the request options are options of server groups (jumphost group edit)",
            );
          }
          if (keep !== undefined && keep !== "on" && keep !== "off") {
            throw new UsageError("--keep-files takes on or off");
          }
          if (d === undefined && keep === undefined && maxMb === undefined && !rules) {
            throw new UsageError(
              kind === "server"
                ? "nothing to change (--description D, --keep-files on|off, --keep-files-max-mb N, " +
                  "--approvals N, --max-request-minutes M, --approvers a,b)"
                : "nothing to change (--description D)",
            );
          }
          const sql = await ctx.db();
          let g = d === undefined ? await getGroup(sql, kind, group) : await updateGroupDescription(
            sql,
            kind,
            group,
            d,
            actor,
          );
          if (keep !== undefined || maxMb !== undefined) {
            const k = await setKeepFiles(sql, group, {
              on: keep === undefined ? undefined : keep === "on",
              maxMb,
            }, actor);
            g = { ...g, ...k };
          }
          if (rules) {
            const r = await setRequestRules(sql, group, { approvals, maxMinutes: maxReq, approvers }, actor);
            g = { ...g, ...r };
          }
          ctx.out.line(bool(p, "json") ? json(g) : `${name} ${g.name} updated`);
          return 0;
        }
        case "delete": {
          const p = parseArgs(rest);
          const n = positional(p, 0, "NAME");
          await deleteGroup(await ctx.db(), kind, n, actor);
          ctx.out.line(`${name} ${n} deleted`);
          return 0;
        }
        case "member": {
          const [verb, ...more] = rest;
          if (verb !== "add" && verb !== "remove") throw new UsageError(`${name} member needs add or remove`);
          const p = parseArgs(more);
          const group = positional(p, 0, "GROUP");
          const members = p.positionals.slice(1);
          if (members.length === 0) throw new UsageError(`missing ${memberWord.toUpperCase()}`);
          const g = await setMembership(await ctx.db(), kind, group, members, verb === "add", actor);
          ctx.out.line(`${name} ${g.name}: ${g.members.length} members (${g.members.join(", ") || "none"})`);
          return 0;
        }
        default:
          throw new UsageError(sub ? `unknown subcommand "${name} ${sub}"` : "missing subcommand");
      }
    },
  };
}

export const serverGroupCommand = groupCommand("server", "group", "server");
export const userGroupCommand = groupCommand("user", "usergroup", "user");
