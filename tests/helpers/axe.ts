// Accessibility check of the page Chromium shows, by axe-core (WCAG 2 A/AA rules). The script is evaluated
// through the DevTools protocol, which the console's Content-Security-Policy does not govern.
import type { Page } from "playwright-core";

const AXE_SOURCE = new URL("../../node_modules/axe-core/axe.min.js", import.meta.url);
let source: string | null = null;

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/** The WCAG 2 A/AA violations on the page as it is now (empty when it passes). */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  source ??= await Deno.readTextFile(AXE_SOURCE);
  const loaded = await page.evaluate(() => typeof (globalThis as { axe?: unknown }).axe !== "undefined");
  if (!loaded) await page.evaluate(`${source}\n;0`);
  return await page.evaluate(async () => {
    // deno-lint-ignore no-explicit-any
    const axe = (globalThis as any).axe;
    const r = await axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa"] } });
    // deno-lint-ignore no-explicit-any
    return r.violations.map((v: any) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      // deno-lint-ignore no-explicit-any
      targets: v.nodes.map((n: any) => String(n.target)),
    }));
  });
}
