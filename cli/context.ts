// What every command gets: the resolved configuration, an output, and a lazily opened database.
import type { Config } from "../core/config.ts";
import type { Out } from "./output.ts";
import { type OpenDb, openDb } from "../db/open.ts";
import type { Sql } from "../db/client.ts";
import { loadApplianceKey } from "../core/appliance_key.ts";
import type { SecretKey } from "../core/secret_box.ts";

export interface CommandContext {
  config: Config;
  out: Out;
  /** opens the database (applying migrations unless told not to) on first use */
  db(opts?: { migrate?: boolean }): Promise<Sql>;
  /** the appliance secret (data dir), created on first need: seals NT hashes and vaulted passwords */
  secretKey(): Promise<SecretKey>;
  /** reads the configuration again from the same flags, environment and file (SIGHUP) */
  reloadConfig(): Config;
  close(): Promise<void>;
}

export function createContext(
  config: Config,
  out: Out,
  reloadConfig: () => Config = () => config,
): CommandContext {
  let opened: Promise<OpenDb> | null = null;
  let key: Promise<SecretKey> | null = null;
  return {
    config,
    out,
    reloadConfig,
    async db() {
      opened ??= openDb({
        databaseUrl: config.databaseUrl,
        dataDir: config.dataDir,
        max: 4,
        appName: "jumphost-cli",
      });
      return (await opened).sql;
    },
    secretKey() {
      key ??= loadApplianceKey(config.dataDir).catch((e) => {
        key = null;
        throw e;
      });
      return key;
    },
    async close() {
      // a CLI command that had to start the embedded cluster stops it again; a running `serve` keeps its own
      if (opened) await (await opened).close({ stopLocal: true });
    },
  };
}
