// The page frame: head with local assets, navigation by role, the logout form.
import type { ComponentChildren } from "preact";
import type { ConsoleSession } from "../../db/console_sessions.ts";
import { can, type Permission } from "../auth.ts";
import { assetUrl } from "../static.ts";
import { CSRF_FIELD } from "../csrf.ts";

/** `badge`: a fragment that fills a count beside the link (htmx, on load and every 15 s) */
const NAV: { href: string; label: string; perm: Permission; badge?: string }[] = [
  { href: "/", label: "Dashboard", perm: "view" },
  { href: "/sessions", label: "Sessions", perm: "view" },
  { href: "/recordings/queue", label: "Conversions", perm: "view" },
  { href: "/nodes", label: "Nodes", perm: "view" },
  { href: "/users", label: "Users", perm: "manage" },
  { href: "/servers", label: "Servers", perm: "manage" },
  { href: "/groups", label: "Groups", perm: "manage" },
  { href: "/policies", label: "Policies", perm: "manage" },
  { href: "/requests", label: "Requests", perm: "view", badge: "/requests/badge" },
  { href: "/audit", label: "Audit", perm: "audit" },
  { href: "/search", label: "Search", perm: "audit" },
  { href: "/console-users", label: "Console users", perm: "console_users" },
  { href: "/webhooks", label: "Webhooks", perm: "console_users" },
];

export interface LayoutProps {
  title: string;
  session: ConsoleSession | null;
  /** held on the account page (a second factor to enrol first): no navigation */
  held?: boolean;
  path: string;
  /** extra assets a page needs (xterm, the player) */
  scripts?: string[];
  styles?: string[];
  /** set during a database outage (serve's probe): a banner on every page */
  dbDownSince?: Date | null;
  children: ComponentChildren;
}

/** What operators see while the database is unreachable. */
export function OutageBanner(p: { since: Date }) {
  return (
    <div class="banner outage" role="alert" id="db-outage">
      <strong>The database is unreachable</strong> since{" "}
      {p.since.toISOString().replace("T", " ").slice(0, 19)}{" "}
      UTC. New SSH and RDP logins are refused, live sessions go on, audit events are kept in the local spool
      and written once it is back; the console cannot show or change data meanwhile.
    </div>
  );
}

function isActive(href: string, path: string): boolean {
  return href === "/" ? path === "/" : path === href || path.startsWith(href + "/");
}

export function Layout(p: LayoutProps) {
  const s = p.session;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta
          name="htmx-config"
          content='{"includeIndicatorStyles":false,"allowEval":false,"historyCacheSize":0}'
        />
        {s ? <meta name="csrf-token" content={s.csrfToken} /> : null}
        <title>{p.title} · jumphost</title>
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href={assetUrl("app.css")} />
        {(p.styles ?? []).map((n) => <link key={n} rel="stylesheet" href={assetUrl(n)} />)}
        <script src={assetUrl("htmx.min.js")} defer></script>
        {(p.scripts ?? []).map((n) => <script key={n} src={assetUrl(n)} defer></script>)}
        <script src={assetUrl("app.js")} defer></script>
      </head>
      <body>
        {s
          ? (
            <header class="top">
              <a class="brand" href="/">jumphost</a>
              <nav>
                {NAV.filter((n) => !s.mustChangePassword && !p.held && can(s.role, n.perm)).map((n) => (
                  <a href={n.href} class={isActive(n.href, p.path) ? "active" : undefined}>
                    {n.label}
                    {n.badge
                      ? (
                        <span
                          class="badge warn nav-count"
                          id={`nav-count-${n.href.slice(1)}`}
                          hx-get={n.badge}
                          hx-trigger="load, every 15s"
                          hx-swap="innerHTML"
                        >
                        </span>
                      )
                      : null}
                  </a>
                ))}
              </nav>
              <div class="who">
                <a href="/account" id="account-link" title="Your account and password">
                  {s.userName} <span class="badge">{s.role}</span>
                </a>
                <form method="post" action="/logout">
                  <input type="hidden" name={CSRF_FIELD} value={s.csrfToken} />
                  <button type="submit" id="logout">Log out</button>
                </form>
              </div>
            </header>
          )
          : null}
        {p.dbDownSince ? <OutageBanner since={p.dbDownSince} /> : null}
        <main>{p.children}</main>
      </body>
    </html>
  );
}
