// Public API of the pure policy engine. Import from here, not from the files behind it.

export * from "./model.ts";
export { PolicyInputError, type PolicyInputErrorCode, PoolExhaustedError } from "./errors.ts";
export {
  type Cidr,
  cidrContains,
  cidrContainsCidr,
  cidrLast,
  cidrsOverlap,
  containsIp,
  formatCidr,
  formatIp,
  type IpAddress,
  type IpFamily,
  normalizeCidr,
  normalizeIp,
  parseCidr,
  parseIp,
  tryParseIp,
} from "./cidr.ts";
export {
  buildSnapshot,
  type CompiledPolicy,
  type ScopeIndex,
  type Snapshot,
  type SnapshotInput,
  type SourceEntry,
} from "./snapshot.ts";
export {
  findServerByPoolIp,
  findServerByRdpPort,
  findUserBySourceIp,
  type IdentifyOptions,
  identifySource,
  isKnownSource,
  resolveServer,
  type ServerMatch,
  type SourceMatch,
} from "./lookup.ts";
export {
  applicablePolicies,
  decide,
  type DecideOptions,
  explainDecision,
  type Explanation,
  POLICY_DENY_PRECEDENCE,
  type PolicyEvaluation,
  type PolicyVerdict,
  policyVerdict,
} from "./decide.ts";
export { serversAllowedFor } from "./allowed_servers.ts";
export { type PrefixMatch, PrefixTable } from "./prefix_table.ts";
export {
  allocateIp,
  type AllocateOptions,
  isInPool,
  type PoolRange,
  poolRange,
  poolSize,
} from "./ip_pool.ts";
export {
  canonicalWindowsLogin,
  parseWindowsLogin,
  tryParseWindowsLogin,
  type WindowsLogin,
  windowsLoginAllowed,
  WindowsLoginError,
  windowsLoginMatches,
} from "./windows_login.ts";
export {
  parseRdpUserName,
  type RdpUserName,
  RdpUserNameError,
  VAULT_LOGIN_SEPARATOR,
} from "./rdp_user_name.ts";
export { type RdpMfaSplit, redactRdpMfaCode, splitRdpMfaCode } from "./rdp_mfa_code.ts";
export { chooseVaultLogin, type VaultChoice } from "./vault_choice.ts";
export { isPolicyLogin } from "./policy_login.ts";
export { NT_HASH_BYTES, ntHash } from "./nt_hash.ts";
