// Typed errors for bad input to the store (one clear line each; `field` lets the console show it inline).
export class InputError extends Error {
  override name = "InputError";
  readonly code = "invalid_input";
  constructor(readonly field: string, message: string) {
    super(message);
  }
}

export class NotFoundError extends Error {
  override name = "NotFoundError";
  readonly code = "not_found";
  constructor(readonly what: string, readonly key: string) {
    super(`${what} "${key}" not found`);
  }
}

/** Validates a name the way the schema does, with a message naming the field. */
export function checkName(field: string, value: string): string {
  const v = value.trim();
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(v)) {
    throw new InputError(field, `${field} "${value}" must be 1-64 letters, digits, '.', '_' or '-'`);
  }
  return v;
}

/**
 * The database refused this statement for what it contains (SQLSTATE classes 22 data exception, 23 integrity
 * constraint, 42 syntax or access rule): writing it again will not help. Anything else (connection refused,
 * reset, admin shutdown, not accepting connections …) may pass once the database is back.
 */
export function isRejectedByDatabase(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  return typeof code === "string" && /^(22|23|42)[0-9A-Z]{3}$/.test(code);
}
