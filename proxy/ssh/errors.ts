// Typed errors of the SSH proxy that cross files (BackendError lives with the backend leg in upstream.ts).

/** The database could not be read or written where the proxy must fail closed. */
export class SessionDbError extends Error {
  override name = "SessionDbError";
  readonly code = "db_unavailable";
}
