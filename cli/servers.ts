// jumphost server add|list|show|edit|delete|backend-key
import { bool, int, parseArgs, positional, str, UsageError } from "./args.ts";
import type { Command } from "./command.ts";
import { json, printList, table } from "./output.ts";
import { cliActor } from "../db/audit_events.ts";
import { createServer, getServer, listServers, type ServerPatch, updateServer } from "../db/servers.ts";
import { listPolicies } from "../db/policies.ts";
import { reservedPoolAddresses } from "../app/pool_reserved.ts";
import { deleteServerAndKey } from "../keys/server_removal.ts";
import { BACKEND_KEY_USAGE, backendKeyCommand, backendKeySummary } from "./backend_key.ts";
import { CREDENTIAL_USAGE, credentialCommand, credentialsListCommand } from "./server_credentials.ts";

const USAGE = "jumphost server add NAME ADDRESS [--ssh-port P] [--rdp-port P] [--protocols ssh,rdp] " +
  "[--pool-ip auto|IP|none] [--rdp-listen-port P] [--rdp-security nla|tls|any] " +
  "[--password-passthrough on|off] [--description D]\n" +
  "       jumphost server list [--search TEXT] [--json]\n" +
  "       jumphost server show NAME [--json]\n" +
  "       jumphost server edit NAME [--address A] [--ssh-port P] [--rdp-port P] [--protocols ssh,rdp] " +
  "[--pool-ip auto|IP|none] [--rdp-listen-port P|none] [--rdp-security nla|tls|any] " +
  "[--password-passthrough on|off] [--description D] " +
  "[--disable|--enable] [--require-mfa|--no-require-mfa] " +
  "[--reset-host-key | --host-key 'TYPE BASE64'] [--reset-rdp-cert | --rdp-cert SHA256]\n" +
  "       jumphost server delete NAME\n" +
  `       ${BACKEND_KEY_USAGE}\n` +
  `       ${CREDENTIAL_USAGE}`;

const protocolsOf = (v: string | undefined) => v === undefined ? undefined : v.split(",");

/** --password-passthrough on|off (spelled like --rdp-security: a setting with named values). */
function onOff(v: string | undefined, flag: string): boolean | undefined {
  if (v === undefined) return undefined;
  const s = v.trim().toLowerCase();
  if (s === "on") return true;
  if (s === "off") return false;
  throw new UsageError(`--${flag} must be on or off, not "${v}"`);
}

export const serverCommand: Command = {
  name: "server",
  summary:
    "manage backend servers (addresses, ports, pool IPs, host keys, RDP certificates, backend keys, credentials)",
  usage: USAGE,
  async run(ctx, argv) {
    const [sub, ...rest] = argv;
    const actor = cliActor();
    const pool = ctx.config.ipPool;
    switch (sub) {
      case "add": {
        const p = parseArgs(rest, {
          strings: [
            "ssh-port",
            "rdp-port",
            "protocols",
            "pool-ip",
            "rdp-listen-port",
            "rdp-security",
            "password-passthrough",
            "description",
          ],
        });
        const s = await createServer(
          await ctx.db(),
          {
            name: positional(p, 0, "NAME"),
            address: positional(p, 1, "ADDRESS"),
            sshPort: int(p, "ssh-port", 1, 65535),
            rdpPort: int(p, "rdp-port", 1, 65535),
            protocols: protocolsOf(str(p, "protocols")),
            poolIp: str(p, "pool-ip") ?? "none",
            rdpListenPort: int(p, "rdp-listen-port", 1, 65535) ?? null,
            rdpSecurity: str(p, "rdp-security"),
            passwordPassthrough: onOff(str(p, "password-passthrough"), "password-passthrough"),
            description: str(p, "description"),
          },
          actor,
          pool,
          await reservedPoolAddresses(ctx.config),
        );
        if (bool(p, "json")) ctx.out.line(json(s));
        else ctx.out.line(`server ${s.name} created (id ${s.id}, pool IP ${s.pool_ip ?? "none"})`);
        return 0;
      }
      case "list": {
        const p = parseArgs(rest, { strings: ["search"] });
        const servers = await listServers(await ctx.db(), { search: str(p, "search") });
        printList(
          ctx.out,
          bool(p, "json"),
          [
            "name",
            "address",
            "ssh",
            "rdp",
            "protocols",
            "pool ip",
            "active",
            "groups",
            "host key",
            "passthrough",
          ],
          servers.map((s) => [
            s.name,
            s.address,
            s.ssh_port,
            s.rdp_port,
            s.protocols.join(","),
            s.pool_ip,
            s.active,
            s.groups.join(","),
            s.host_key ? "pinned" : "-",
            s.password_passthrough ? "on" : "off",
          ]),
          servers,
        );
        return 0;
      }
      case "show": {
        const p = parseArgs(rest);
        const sql = await ctx.db();
        const s = await getServer(sql, positional(p, 0, "NAME"));
        const policies = await listPolicies(sql, { server: s.name, status: "all", limit: 50 });
        const backendKey = await backendKeySummary(ctx.config.dataDir, s.name);
        if (bool(p, "json")) {
          ctx.out.line(json({ ...s, backend_key: backendKey, policies }));
          return 0;
        }
        ctx.out.line(table(["field", "value"], [
          ["name", s.name],
          ["address", s.address],
          ["ssh port", s.ssh_port],
          ["rdp port", s.rdp_port],
          ["protocols", s.protocols.join(", ")],
          ["pool ip", s.pool_ip],
          ["rdp listen port", s.rdp_listen_port],
          ["rdp security", s.rdp_security],
          ["password passthrough", s.password_passthrough ? "on" : "off"],
          ["require MFA (ssh)", s.require_mfa],
          ["active", s.active],
          ["groups", s.groups.join(", ") || "-"],
          ["host key", s.host_key],
          ["host key pinned", s.host_key_pinned_at],
          ["rdp certificate sha256", s.rdp_cert_sha256],
          ["rdp certificate pinned", s.rdp_cert_pinned_at],
          [
            "backend key",
            backendKey === null
              ? null
              : "invalid" in backendKey
              ? `unusable: ${backendKey.invalid}`
              : `${backendKey.type} ${backendKey.fingerprint}`,
          ],
          ["description", s.description],
        ]));
        ctx.out.line("\npolicies:");
        ctx.out.line(table(
          ["id", "status", "subject", "protocols", "logins", "until"],
          policies.map((
            x,
          ) => [
            x.id,
            x.status,
            x.subject,
            x.protocols.join(","),
            x.logins.join(",") || "any",
            x.valid_until,
          ]),
        ));
        return 0;
      }
      case "edit": {
        const p = parseArgs(rest, {
          strings: [
            "address",
            "ssh-port",
            "rdp-port",
            "protocols",
            "pool-ip",
            "rdp-listen-port",
            "rdp-security",
            "password-passthrough",
            "description",
            "host-key",
            "rdp-cert",
          ],
          booleans: [
            "disable",
            "enable",
            "reset-host-key",
            "reset-rdp-cert",
            "require-mfa",
            "no-require-mfa",
          ],
        });
        const name = positional(p, 0, "NAME");
        if (bool(p, "disable") && bool(p, "enable")) {
          throw new UsageError("--disable and --enable exclude each other");
        }
        if (bool(p, "reset-host-key") && str(p, "host-key")) {
          throw new UsageError("--reset-host-key and --host-key exclude each other");
        }
        if (bool(p, "reset-rdp-cert") && str(p, "rdp-cert")) {
          throw new UsageError("--reset-rdp-cert and --rdp-cert exclude each other");
        }
        const listen = str(p, "rdp-listen-port");
        const flag = (on: string, off: string) => {
          if (bool(p, on) && bool(p, off)) throw new UsageError(`--${on} and --${off} exclude each other`);
          return bool(p, on) ? true : bool(p, off) ? false : undefined;
        };
        const patch: ServerPatch = {
          address: str(p, "address"),
          sshPort: int(p, "ssh-port", 1, 65535),
          rdpPort: int(p, "rdp-port", 1, 65535),
          protocols: protocolsOf(str(p, "protocols")),
          poolIp: str(p, "pool-ip"),
          rdpListenPort: listen === "none" ? null : int(p, "rdp-listen-port", 1, 65535),
          rdpSecurity: str(p, "rdp-security"),
          passwordPassthrough: onOff(str(p, "password-passthrough"), "password-passthrough"),
          description: str(p, "description"),
          active: bool(p, "disable") ? false : bool(p, "enable") ? true : undefined,
          hostKey: bool(p, "reset-host-key") ? null : str(p, "host-key"),
          rdpCertSha256: bool(p, "reset-rdp-cert") ? null : str(p, "rdp-cert"),
          requireMfa: flag("require-mfa", "no-require-mfa"),
        };
        const reserved = patch.poolIp === undefined ? [] : await reservedPoolAddresses(ctx.config);
        const s = await updateServer(await ctx.db(), name, patch, actor, pool, reserved);
        if (bool(p, "json")) ctx.out.line(json(s));
        else ctx.out.line(`server ${s.name} updated`);
        return 0;
      }
      case "delete": {
        const p = parseArgs(rest);
        const name = positional(p, 0, "NAME");
        const key = await deleteServerAndKey(await ctx.db(), ctx.config.dataDir, name, actor);
        ctx.out.line(`server ${name} deleted${key ? ` (backend key ${key} removed)` : ""}`);
        return 0;
      }
      case "credential":
        return await credentialCommand(ctx, rest, actor);
      case "credentials":
        return await credentialsListCommand(ctx, rest);
      case "backend-key":
        return await backendKeyCommand(ctx, rest, actor);
      default:
        throw new UsageError(sub ? `unknown subcommand "server ${sub}"` : "missing subcommand");
    }
  },
};
