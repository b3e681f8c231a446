// The command registry: one line per command group.
import type { Command } from "./command.ts";
import { accessCommand } from "./access.ts";
import { adminCommand } from "./admin.ts";
import { auditCommand } from "./audit.ts";
import { directoryCommand } from "./directory.ts";
import { webhookCommand } from "./webhooks.ts";
import { doctorCommand } from "./doctor.ts";
import { grantCommand } from "./grant.ts";
import { serverGroupCommand, userGroupCommand } from "./groups.ts";
import { migrateCommand } from "./migrate.ts";
import { nodesCommand } from "./nodes.ts";
import { policyCommand } from "./policies.ts";
import { poolCommand } from "./pool.ts";
import { recordingsCommand } from "./recordings.ts";
import { requestsCommand } from "./requests.ts";
import { searchCommand } from "./search.ts";
import { serveCommand } from "./serve.ts";
import { serverCommand } from "./servers.ts";
import { sessionsCommand } from "./sessions.ts";
import { userCommand } from "./users.ts";

export const COMMANDS: Command[] = [
  serveCommand,
  migrateCommand,
  userCommand,
  userGroupCommand,
  serverCommand,
  serverGroupCommand,
  grantCommand,
  requestsCommand,
  policyCommand,
  accessCommand,
  auditCommand,
  adminCommand,
  poolCommand,
  doctorCommand,
  sessionsCommand,
  nodesCommand,
  recordingsCommand,
  searchCommand,
  directoryCommand,
  webhookCommand,
];
