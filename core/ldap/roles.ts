// Which console role a directory account gets: the strongest role any of its groups is mapped to. Pure.
export type DirectoryConsoleRole = "admin" | "operator" | "auditor";

const STRENGTH: Record<string, number> = { auditor: 1, operator: 2, admin: 3 };

/** Null when none of the groups is mapped: the account may not use the console. */
export function consoleRoleFor(
  mapping: Record<string, string>,
  groups: readonly string[],
): DirectoryConsoleRole | null {
  const lower = new Map(Object.entries(mapping).map(([g, r]) => [g.toLowerCase(), r]));
  let best: DirectoryConsoleRole | null = null;
  for (const g of groups) {
    const r = lower.get(g.toLowerCase());
    if (r && STRENGTH[r] && (!best || STRENGTH[r] > STRENGTH[best])) best = r as DirectoryConsoleRole;
  }
  return best;
}
