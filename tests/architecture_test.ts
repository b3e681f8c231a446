// Imports run one way, down the layers (docs/ARCHITECTURE.md, "Layers"). The product graph is what
// `deno info --json` resolves from main.ts and from every worker module the program starts by URL; test files
// (beside the code or in tests/) are scanned for their relative imports. No exceptions list: a failure names
// the file pair, and the fix is to move the shared piece down.
import assert from "node:assert/strict";
import { dirname, join, normalize, relative } from "node:path";

/** Rank of each top-level folder: a file may import its own folder or a lower rank, never an equal one. */
export const LAYERS: Record<string, number> = {
  "policy": 0,
  "core": 1,
  "db": 2,
  "recorder": 3,
  "keys": 3,
  "proxy": 4,
  "web": 4,
  "app": 5,
  "cli": 6,
  "main.ts": 7,
};

const ROOT = new URL("../", import.meta.url).pathname.replace(/\/$/, "");
const ROOT_URL = new URL("../", import.meta.url).href;

/** The top-level folder (or root file) a repository path belongs to. */
function layerOf(path: string): string {
  return path.split("/")[0];
}

/** null when the import is allowed, else why not. */
function violation(from: string, to: string): string | null {
  const a = layerOf(from), b = layerOf(to);
  if (a === b) return null;
  const ra = LAYERS[a], rb = LAYERS[b];
  if (ra === undefined) return `${from} is in ${a}/, which has no layer`;
  if (rb === undefined) return `${from} imports ${to}, in ${b}/, which has no layer`;
  if (rb > ra) return `${from} imports upward: ${to} (${a} < ${b})`;
  if (rb === ra) return `${from} imports its sibling layer: ${to} (${a} and ${b} must not import each other)`;
  return null;
}

type Graph = Map<string, Set<string>>;

interface InfoModule {
  specifier: string;
  dependencies?: { code?: { specifier?: string }; type?: { specifier?: string } }[];
}

async function denoInfo(entry: string): Promise<InfoModule[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, `deno info ${entry}: ${new TextDecoder().decode(out.stderr)}`);
  return JSON.parse(new TextDecoder().decode(out.stdout)).modules;
}

const local = (specifier: string | undefined): string | null =>
  specifier?.startsWith(ROOT_URL) ? decodeURIComponent(specifier.slice(ROOT_URL.length)) : null;

/** Modules started by URL (new Worker, worker hosts): `new URL("x.ts", import.meta.url)` in product code. */
const MODULE_URL = /new URL\(\s*["'](\.{1,2}\/[^"']+\.tsx?)["']\s*,\s*import\.meta\.url\s*\)/g;

/** The product graph: main.ts, then every worker module found in it, until nothing new appears. */
async function productGraph(): Promise<{ graph: Graph; entries: string[] }> {
  const graph: Graph = new Map();
  const entries = ["main.ts"];
  for (let i = 0; i < entries.length; i++) {
    for (const m of await denoInfo(entries[i])) {
      const from = local(m.specifier);
      if (!from) continue;
      const deps = graph.get(from) ?? new Set<string>();
      graph.set(from, deps);
      for (const d of m.dependencies ?? []) {
        for (const to of [local(d.code?.specifier), local(d.type?.specifier)]) if (to) deps.add(to);
      }
      if (!/\.tsx?$/.test(from)) continue;
      for (const [, spec] of Deno.readTextFileSync(join(ROOT, from)).matchAll(MODULE_URL)) {
        const target = normalize(join(dirname(from), spec));
        if (!entries.includes(target)) entries.push(target);
      }
    }
  }
  return { graph, entries };
}

/** Import circles between files (Tarjan's strongly connected components of two or more files). */
function circles(graph: Graph): string[][] {
  const index = new Map<string, number>(), low = new Map<string, number>();
  const stack: string[] = [], onStack = new Set<string>(), found: string[][] = [];
  let next = 0;
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) found.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*)["'](\.{1,2}\/[^"']+)["']/g;

/** Every .ts/.tsx file under the layered folders that is not in the product graph (tests, fixtures). */
function otherFiles(product: Graph): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const e of Deno.readDirSync(join(ROOT, dir))) {
      const p = `${dir}/${e.name}`;
      if (e.isDirectory) walk(p);
      else if (/\.tsx?$/.test(e.name) && !product.has(p)) files.push(p);
    }
  };
  for (const layer of Object.keys(LAYERS)) if (!layer.endsWith(".ts")) walk(layer);
  return files;
}

Deno.test("every layered folder exists and every top-level code folder has a layer", () => {
  for (const layer of Object.keys(LAYERS)) {
    assert.ok(Deno.statSync(join(ROOT, layer)), `${layer} exists`);
  }
  const unplaced = [...Deno.readDirSync(ROOT)]
    .filter((e) => e.isDirectory && !e.name.startsWith(".") && !(e.name in LAYERS))
    .filter((e) => !["tests", "bench", "scripts", "docs", "node_modules", "data", "dist"].includes(e.name))
    .map((e) => e.name);
  assert.deepEqual(unplaced, [], "top-level folders without a layer");
});

Deno.test("docs/ARCHITECTURE.md's layer table is this test's LAYERS", () => {
  const doc = Deno.readTextFileSync(join(ROOT, "docs/ARCHITECTURE.md"));
  const table: Record<string, number> = {};
  for (const [, rank, folder] of doc.matchAll(/^\|\s*(\d+)\s*\|\s*`([^`]+?)\/?`\s*\|/gm)) {
    table[folder] = Number(rank);
  }
  assert.deepEqual(table, LAYERS);
});

Deno.test("the product graph imports only down the layers and has no circles", async () => {
  const { graph, entries } = await productGraph();
  for (
    const w of ["proxy/ssh/ssh_worker.ts", "proxy/rdp/rdp_worker.ts", "recorder/convert/convert_worker.ts"]
  ) {
    assert.ok(entries.includes(w), `worker entry ${w} was found (entries: ${entries.join(", ")})`);
  }
  const wrong: string[] = [];
  for (const [from, deps] of graph) {
    for (const to of deps) {
      const why = violation(from, to);
      if (why) wrong.push(why);
    }
  }
  const found = { upward_or_sideways: wrong.sort(), circles: circles(graph).map((c) => c.join(" ⇄ ")) };
  assert.deepEqual(
    found,
    { upward_or_sideways: [], circles: [] },
    "imports against the layer order, circles",
  );
});

Deno.test("tests and fixtures beside the code import only down the layers (or tests/ helpers)", async () => {
  const { graph: product } = await productGraph();
  const wrong: string[] = [];
  for (const from of otherFiles(product)) {
    const src = Deno.readTextFileSync(join(ROOT, from));
    for (const [, spec] of src.matchAll(IMPORT)) {
      const to = relative(ROOT, join(ROOT, dirname(from), spec));
      if (to.startsWith("tests/")) continue;
      const why = violation(from, to);
      if (why) wrong.push(why);
    }
  }
  assert.deepEqual(wrong.sort(), [], "imports against the layer order in test code");
});

Deno.test("the layer check itself: upward and sibling imports are named, downward ones pass", () => {
  assert.equal(violation("proxy/ssh/server.ts", "db/client.ts"), null);
  assert.equal(violation("cli/serve.ts", "app/serve.ts"), null);
  assert.match(
    violation("proxy/messages.ts", "cli/config.ts")!,
    /proxy\/messages.ts imports upward: cli\/config.ts/,
  );
  assert.match(violation("web/routes/servers.tsx", "proxy/x.ts")!, /sibling layer/);
  assert.match(violation("core/log.ts", "db/client.ts")!, /upward/);
  const g: Graph = new Map([["a", new Set(["b"])], ["b", new Set(["c"])], ["c", new Set(["a"])], [
    "d",
    new Set(),
  ]]);
  assert.deepEqual(circles(g), [["a", "b", "c"]]);
});
