// jumphost server backend-key NAME --generate|--import FILE|--show-public|--remove: the appliance's own key
// for logging in to one backend (used when the user brings no agent or password). Changes are audited.
import { bool, parseArgs, positional, str, UsageError } from "./args.ts";
import { CliError } from "./command.ts";
import type { CommandContext } from "./context.ts";
import { json } from "./output.ts";
import { changeEvent } from "../db/audit_events.ts";
import { writeAudit } from "../db/audit.ts";
import { getServer } from "../db/servers.ts";
import {
  BackendKeyError,
  type BackendKeyInfo,
  generateBackendKey,
  readBackendKey,
  removeBackendKey,
  writeBackendKey,
} from "../keys/backend_keys.ts";

export const BACKEND_KEY_USAGE =
  "jumphost server backend-key NAME (--generate | --import FILE|- | --show-public | --remove) [--force] [--json]";

const ACTIONS = ["generate", "import", "show-public", "remove"] as const;

export async function backendKeyCommand(ctx: CommandContext, argv: string[], actor: string): Promise<number> {
  const p = parseArgs(argv, {
    strings: ["import"],
    booleans: ["generate", "show-public", "remove", "force"],
  });
  const server = positional(p, 0, "NAME");
  const chosen = ACTIONS.filter((a) => a === "import" ? str(p, "import") !== undefined : bool(p, a));
  if (chosen.length !== 1) {
    throw new UsageError("say what to do: one of --generate, --import FILE, --show-public, --remove");
  }
  const dataDir = ctx.config.dataDir;
  const asJson = bool(p, "json");
  switch (chosen[0]) {
    case "show-public": {
      const info = await readBackendKey(dataDir, server);
      if (!info) throw new CliError(`server ${server} has no backend key (create one with --generate)`);
      ctx.out.line(asJson ? json(publicView(info)) : info.publicKey);
      return 0;
    }
    case "remove": {
      const sql = await ctx.db(); // first: no unaudited removal because the database is down
      const info = await removeBackendKey(dataDir, server);
      await writeAudit(
        sql,
        changeEvent(actor, "server.backend_key_removed", server, { fingerprint: info.fingerprint }),
      );
      ctx.out.line(
        asJson ? json(publicView(info)) : `backend key for ${server} removed (${info.fingerprint})`,
      );
      return 0;
    }
    case "generate":
    case "import": {
      const sql = await ctx.db();
      await getServer(sql, server); // a key for a server the proxy does not know would never be used
      const file = str(p, "import");
      const key = file === undefined ? generateBackendKey(server) : await readKeyFile(file);
      const previous = await readBackendKey(dataDir, server).catch(() => null);
      const info = await writeBackendKey(dataDir, server, key, { replace: bool(p, "force") });
      await writeAudit(
        sql,
        changeEvent(actor, "server.backend_key_set", server, {
          how: file === undefined ? "generated" : "imported",
          type: info.type,
          fingerprint: info.fingerprint,
          replaced: previous?.fingerprint ?? null,
        }),
      );
      if (asJson) ctx.out.line(json(publicView(info)));
      else {
        ctx.out.line(
          `backend key for ${server} ${file === undefined ? "generated" : "imported"} ` +
            `(${info.type} ${info.fingerprint}). Add this line to the login's ~/.ssh/authorized_keys on ${server}:`,
        );
        ctx.out.line(info.publicKey);
      }
      return 0;
    }
  }
}

/** For `server show`: the key's type and fingerprint, why it cannot be used, or null when there is none. */
export async function backendKeySummary(
  dataDir: string,
  server: string,
): Promise<{ type: string; fingerprint: string } | { invalid: string } | null> {
  try {
    const k = await readBackendKey(dataDir, server);
    return k ? { type: k.type, fingerprint: k.fingerprint } : null;
  } catch (e) {
    if (e instanceof BackendKeyError || e instanceof Deno.errors.PermissionDenied) {
      return { invalid: (e as Error).message };
    }
    throw e;
  }
}

function publicView(i: BackendKeyInfo) {
  return {
    server: i.server,
    path: i.path,
    type: i.type,
    fingerprint: i.fingerprint,
    public_key: i.publicKey,
  };
}

async function readKeyFile(file: string): Promise<string> {
  try {
    if (file === "-") return await new Response(Deno.stdin.readable).text();
    return await Deno.readTextFile(file);
  } catch (e) {
    throw new CliError(`cannot read ${file}: ${(e as Error).message}`);
  }
}
