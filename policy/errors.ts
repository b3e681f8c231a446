// Typed errors of the policy engine. Callers switch on `code`, never on message text.

export type PolicyInputErrorCode =
  | "invalid_ip"
  | "invalid_cidr"
  | "invalid_prefix"
  | "cidr_host_bits"
  | "invalid_time"
  | "duplicate_id"
  | "duplicate_server_name"
  | "duplicate_pool_ip"
  | "pool_ip_without_pool"
  | "pool_ip_outside_pool"
  | "pool_ip_reserved"
  | "duplicate_rdp_listen_port"
  | "invalid_schedule";

/** Bad input handed to the policy engine (malformed address, CIDR, date, or conflicting rows). */
export class PolicyInputError extends Error {
  override name = "PolicyInputError";
  constructor(readonly code: PolicyInputErrorCode, message: string) {
    super(message);
  }
}

/** An IP pool has no free host address left. */
export class PoolExhaustedError extends Error {
  override name = "PoolExhaustedError";
  readonly code = "pool_exhausted";
  constructor(readonly poolCidr: string, message: string) {
    super(message);
  }
}
