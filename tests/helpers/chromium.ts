// Debian's Chromium driven by playwright-core: headless, no network beyond loopback, a fresh profile per run.
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { join } from "node:path";
import { PeerStartError, requireProgram } from "./peer.ts";

export interface Browser {
  ctx: BrowserContext;
  page: Page;
  /** page errors and console errors (CSP violations land here) */
  errors: string[];
  /** saves a full-page screenshot as tests/artifacts/<dir>/<name>.png */
  shot(name: string): Promise<void>;
  close(): Promise<void>;
}

export const ARTIFACTS = new URL("../artifacts/", import.meta.url).pathname;

export async function openBrowser(artifactDir: string): Promise<Browser> {
  const profile = await Deno.makeTempDir({ prefix: "jh-chromium-" });
  const shots = join(ARTIFACTS, artifactDir);
  await Deno.mkdir(shots, { recursive: true });
  requireProgram("/usr/bin/chromium", "chromium");
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  }).catch(async (e) => {
    await Deno.remove(profile, { recursive: true }).catch(() => {});
    throw new PeerStartError(`Chromium (/usr/bin/chromium) did not start: ${(e as Error).message}`);
  });
  const page = ctx.pages()[0] ?? await ctx.newPage();
  page.setDefaultTimeout(15_000);
  // confirm() dialogs (kill, revoke, delete) are accepted, as an operator would
  page.on("dialog", (d) => void d.accept());
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    // an HTTP error status (a rejected form) is logged by Chromium too; that is expected, not a script error
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) {
      errors.push(`console: ${m.text()}`);
    }
  });
  return {
    ctx,
    page,
    errors,
    async shot(name) {
      await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
    },
    async close() {
      await ctx.close();
      await Deno.remove(profile, { recursive: true });
    },
  };
}

/** Logs in to the console at `base` with a console user's password (no second factor) and waits for the dashboard. */
export async function consoleLogin(page: Browser["page"], base: string, name: string, password: string) {
  await page.goto(`${base}/login`);
  await page.fill("#name", name);
  await page.fill("#password", password);
  await page.click("#login-submit");
  await page.waitForURL(`${base}/`);
}
