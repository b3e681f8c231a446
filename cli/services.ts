// What `serve` starts, in order (stopped in reverse). Each proxy and the console live in their own folder.
import type { ServiceStarter } from "./serve.ts";

export const SERVICES: [string, ServiceStarter][] = [];
