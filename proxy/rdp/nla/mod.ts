/** The NLA core's API for the connection code (see README.md in this folder). */
export {
  CREDSSP_MAX_VERSION,
  CredSspServer,
  type CredSspServerOptions,
  type CredSspServerResult,
  type CredSspServerState,
  type CredSspServerStep,
} from "./credssp_server.ts";
export {
  CredSspClient,
  type CredSspClientOptions,
  type CredSspClientState,
  type CredSspClientStep,
} from "./credssp_client.ts";
export {
  AUTHZ_ACCESS_DENIED,
  AUTHZ_SUCCESS,
  encodeEarlyUserAuthResult,
  parseEarlyUserAuthResult,
} from "./early_auth.ts";
export {
  asNlaError,
  NlaError,
  type NlaErrorCode,
  SEC_E_INVALID_TOKEN,
  SEC_E_LOGON_DENIED,
  SEC_E_MESSAGE_ALTERED,
  STATUS_ACCOUNT_RESTRICTION,
  STATUS_LOGON_FAILURE,
} from "./errors.ts";
export { ntHash } from "./crypto.ts";
export type { NtHashLookup, NtlmServerOptions } from "./ntlm_server.ts";
export type { PasswordCredentials } from "./ts_request.ts";
export { pemCertificateDer, subjectPublicKey } from "./x509.ts";
