// Fuzzing the CLI's arguments: a million argument vectors, built from the real commands' words and flags
// (taken from their usage strings) mixed with hostile values, run through each command in process. A
// command may refuse its arguments in any typed way (usage, input, config, not found); reaching the
// database or the appliance secret ends that input (counted as "parsed": arguments that got past all
// validation); any other exception — a TypeError, a RangeError, an "internal error" — is a crash.
//   deno run -A bench/reliability/fuzz_cli.ts [--iterations N] [--seed S]   (stdin from /dev/null)
// Not run: serve (starts the appliance), pool (changes the machine's addresses as root), compile (runs deno
// compile), doctor (probes the machine): their argument parsing is in cli/args.ts like every other's.
import { COMMANDS } from "../../cli/commands.ts";
import { CliError } from "../../cli/command.ts";
import type { CommandContext } from "../../cli/context.ts";
import { reportError } from "../../cli/errors.ts";
import { resolveConfig } from "../../core/config.ts";
import { prng } from "./fuzz_rand.ts";

class NoIo extends CliError {
  constructor(what: string) {
    super(`fuzz: would open ${what}`);
  }
}

const arg = (name: string, dflt: number) => {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Number(Deno.args[i + 1]) : dflt;
};
const ITERATIONS = arg("iterations", 1_000_000);
const SEED = arg("seed", 0xc11f);
const SKIP = new Set(["serve", "pool", "compile", "doctor"]);
const commands = COMMANDS.filter((c) => !SKIP.has(c.name));

// every word and flag a usage string names: the fuzzer's vocabulary
const words = new Set<string>(), flags = new Set<string>();
for (const c of COMMANDS) {
  for (const m of c.usage.matchAll(/--[a-z][a-z0-9-]*/g)) flags.add(m[0]);
  for (const m of c.usage.matchAll(/(?<![-\w])([a-z][a-z-]{1,20})(?![\w-])/g)) words.add(m[1]);
}
const WORDS = [...words], FLAGS = [...flags];
// each command's own words and flags, so most inputs get past the first checks into deeper validation
const own = new Map(COMMANDS.map((c) => [
  c.name,
  {
    words: [...c.usage.matchAll(/(?<![-\w])([a-z][a-z-]{1,20})(?![\w-])/g)].map((m) => m[1]).filter((w) =>
      w !== c.name && w !== "jumphost"
    ),
    flags: [...c.usage.matchAll(/--[a-z][a-z0-9-]*/g)].map((m) => m[0]),
  },
]));
const HOSTILE = [
  "",
  " ",
  "-",
  "--",
  "---",
  "=",
  "--=x",
  "-1",
  "0",
  "1",
  "65536",
  "99999999999999999999999",
  "1e309",
  "NaN",
  "Infinity",
  "0x10",
  "../../../../etc/passwd",
  "/dev/zero",
  "a".repeat(5000),
  "\u0000",
  "\u202e\u0645",
  "😀",
  "%s%n",
  "'; DROP TABLE users; --",
  "<script>",
  "10.0.0.0/8",
  "::/0",
  "300.1.1.1",
  "1.2.3.4/33",
  "fe80::1%eth0",
  "127.0.0.1:99999",
  "[::1]:22",
  "2026-13-45T25:61:00Z",
  "7d",
  "-5m",
  "1w",
  "ssh",
  "rdp",
  "ssh,rdp,ftp",
  "DOMAIN\\user",
  "user@domain",
  "alice+svc",
  "on",
  "off",
  "true",
  "age1qqqq",
  "ssh-ed25519 AAAA",
  "Mon-Fri 08:00-18:00 Europe/Berlin",
];

const rand = prng(SEED);
const int = (n: number) => Math.floor(rand() * n);
const pick = <T>(a: readonly T[]) => a[int(a.length)];
function value(): string {
  const r = rand();
  if (r < 0.5) return pick(HOSTILE);
  if (r < 0.7) return pick(WORDS);
  if (r < 0.8) return String(int(1 << 20) - 1000);
  return Array.from({ length: int(40) }, () => String.fromCharCode(int(r < 0.9 ? 128 : 0x3000))).join("");
}
function argv(): { cmd: (typeof commands)[number]; args: string[] } {
  const cmd = pick(commands);
  const mine = own.get(cmd.name)!;
  const word = () => rand() < 0.8 && mine.words.length ? pick(mine.words) : pick(WORDS);
  const flag = () => rand() < 0.8 && mine.flags.length ? pick(mine.flags) : pick(FLAGS);
  const args: string[] = [];
  if (rand() < 0.9) args.push(word());
  if (rand() < 0.6) args.push(rand() < 0.5 ? word() : value());
  for (let n = int(7); n > 0; n--) {
    const r = rand();
    if (r < 0.45) args.push(flag(), value());
    else if (r < 0.6) args.push(`${flag()}=${value()}`);
    else if (r < 0.7) args.push(flag());
    else args.push(value());
  }
  return { cmd, args };
}

const dataDir = await Deno.makeTempDir({ prefix: "jh-fuzz-cli-" });
const config = resolveConfig({
  profile: "checkout",
  cwd: dataDir,
  hostname: "fuzz",
  flags: { "data-dir": dataDir, "database-url": "postgres://fuzz@127.0.0.1:1/none" },
  env: {},
  file: {},
  configFile: null,
});
let output = "";
const out = { line: (_t: string) => {}, error: (t: string) => void (output = t) };
const ctx: CommandContext = {
  config,
  out,
  db: () => Promise.reject(new NoIo("the database")),
  secretKey: () => Promise.reject(new NoIo("the appliance secret")),
  reloadConfig: () => config,
  close: () => Promise.resolve(),
};

const outcome = { ok: 0, refused: 0, parsed: 0, crashes: 0 };
const crashes: string[] = [];
const t0 = performance.now();
for (let i = 0; i < ITERATIONS; i++) {
  const { cmd, args } = argv();
  try {
    const code = await cmd.run(ctx, args);
    if (code === 0) outcome.ok++;
    else outcome.refused++;
  } catch (e) {
    if (e instanceof NoIo) {
      outcome.parsed++;
      continue;
    }
    output = "";
    reportError(out, e, cmd.usage);
    if (/internal error/.test(output)) {
      outcome.crashes++;
      if (crashes.length < 20) crashes.push(`${cmd.name} ${JSON.stringify(args)}: ${(e as Error).stack}`);
    } else outcome.refused++;
  }
}
const seconds = (performance.now() - t0) / 1000;
await Deno.remove(dataDir, { recursive: true });
console.log(JSON.stringify({
  target: "cli",
  seed: SEED,
  inputs: ITERATIONS,
  commands: commands.map((c) => c.name),
  vocabulary: { words: WORDS.length, flags: FLAGS.length },
  ...outcome,
  seconds: Math.round(seconds),
}));
for (const c of crashes) console.error(`CRASH ${c}`);
Deno.exit(outcome.crashes === 0 ? 0 : 1);
