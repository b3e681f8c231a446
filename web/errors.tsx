// Errors to HTTP in one place: typed errors become status pages; anything else a 500 without details.
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { DbError } from "../db/client.ts";
import { InputError, NotFoundError } from "../db/errors.ts";
import { CsrfError } from "./csrf.ts";
import type { AppEnv, LogLevel } from "./deps.ts";
import { isHtmx, page } from "./render.tsx";

export class HttpError extends Error {
  constructor(readonly status: 400 | 403 | 404 | 409 | 413 | 503, message: string) {
    super(message);
    this.name = "HttpError";
  }
}

export const notFound = (what = "page") => new HttpError(404, `No such ${what}.`);
export const forbidden = () => new HttpError(403, "Your role does not allow this.");

const TITLES: Record<number, string> = {
  400: "Bad request",
  403: "Forbidden",
  404: "Not found",
  409: "Conflict",
  413: "Request too large",
  500: "Something went wrong",
  503: "Service unavailable",
};

export function errorPage(c: Context<AppEnv>, status: number, message: string): Response {
  const title = TITLES[status] ?? "Error";
  if (c.req.header("Accept")?.includes("application/json") && !c.req.header("HX-Request")) {
    return c.json({ error: message }, status as 400);
  }
  const body = (
    <div class="errorpage">
      <h1>{status} · {title}</h1>
      <p>{message}</p>
      <p>
        <a href="/">Back to the dashboard</a>
      </p>
    </div>
  );
  if (isHtmx(c)) c.header("HX-Retarget", "main");
  return page(c, title, body, { status: status as 400 });
}

export function mapError(e: unknown): { status: number; message: string; level: LogLevel } {
  if (e instanceof HttpError) return { status: e.status, message: e.message, level: "debug" };
  if (e instanceof CsrfError) {
    return {
      status: 403,
      message: "The form was stale or came from another site. Reload and try again.",
      level: "warn",
    };
  }
  if (e instanceof DbError) {
    const status = { unavailable: 503, conflict: 409, not_found: 404, invalid: 400 }[e.code];
    return { status, message: status === 503 ? "The database is unavailable." : e.message, level: "warn" };
  }
  if (e instanceof NotFoundError) return { status: 404, message: `No such ${e.what}.`, level: "debug" };
  if (e instanceof InputError) return { status: 400, message: e.message, level: "debug" };
  if (e instanceof HTTPException) {
    return { status: e.status, message: TITLES[e.status] ?? "Error", level: "debug" };
  }
  if (isBodyReadError(e)) {
    return { status: 400, message: "The request body could not be read.", level: "debug" };
  }
  return { status: 500, message: "An internal error occurred; it has been logged.", level: "error" };
}

/**
 * A request body the client broke: a lying length or chunked encoding (Deno's HTTP server reports it when the
 * body is read), a connection gone mid-body, a multipart body without its boundary. The client's fault: 400,
 * not an internal error (found by bench/reliability/fuzz_http.ts).
 */
function isBodyReadError(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  return e.name === "BadResource" || e.name === "Http" || /^invalid HTTP\/1 request/.test(e.message) ||
    (e instanceof TypeError &&
      /MultipartParser|multipart\/form-data must provide a boundary|Unable to parse body as form data/.test(
        e.message,
      ));
}

/**
 * The inline form errors for a store validation error (`field` mapped to the form's field name), or
 * null when the error is not about the input and should propagate.
 */
export function formErrorsOf(
  e: unknown,
  fieldMap: Record<string, string> = {},
  known?: readonly string[],
): Record<string, string> | null {
  const at = (f: string) => (known && !known.includes(f) ? "_form" : f);
  if (e instanceof InputError) return { [at(fieldMap[e.field] ?? e.field)]: e.message };
  if (e instanceof NotFoundError) return { [at(fieldMap[e.what] ?? "_form")]: e.message };
  if (e instanceof DbError && (e.code === "conflict" || e.code === "invalid")) return { _form: e.message };
  return null;
}
