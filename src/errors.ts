/**
 * One error style for the whole service: throw AppError(code, message); the
 * HTTP error handler renders {"error": {"code", "message"}} with the status
 * that belongs to the code. docs/errors.md lists every code (a test keeps
 * the two in step).
 */
export const errorStatus = {
  bad_request: 400,
  invalid_json: 400,
  validation_failed: 400,
  invalid_cursor: 400,
  invalid_proxy_path: 400,
  unauthorized: 401,
  invalid_signature: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  request_timeout: 408,
  conflict: 409,
  not_connected: 409,
  reauthorization_required: 409,
  proxy_not_configured: 409,
  refresh_not_supported: 409,
  refresh_too_early: 409,
  payload_too_large: 413,
  uri_too_long: 414,
  unsupported_media_type: 415,
  rate_limited: 429,
  header_fields_too_large: 431,
  internal_error: 500,
  bad_gateway: 502,
  integration_misconfigured: 502,
  refresh_failed_transient: 503,
  service_unavailable: 503,
} as const;

/** The codes of HTTP API answers (the first table of docs/errors.md). */
export type ApiErrorCode = keyof typeof errorStatus;

/**
 * How a connect flow fails ("Connect outcome codes" in docs/errors.md): shown on tether's page in
 * the person's browser with this status, recorded on the connect session, and sent back to the
 * app's redirectUrl when the failure belongs to the person who opened the link.
 */
export const connectOutcomeStatus = {
  access_denied: 400,
  provider_error: 400,
  missing_code: 400,
  exchange_failed: 502,
  session_expired: 410,
  session_used: 410,
  unknown_session: 404,
  browser_mismatch: 400,
  missing_state: 400,
  state_unknown: 400,
  state_reused: 400,
} as const;

export type ConnectOutcomeCode = keyof typeof connectOutcomeStatus;
export const CONNECT_OUTCOME_CODES = Object.keys(connectOutcomeStatus) as ConnectOutcomeCode[];

export function isConnectOutcomeCode(code: string): code is ConnectOutcomeCode {
  return Object.hasOwn(connectOutcomeStatus, code);
}

/** Every code a user can meet, in one union. */
export type ErrorCode = ApiErrorCode | ConnectOutcomeCode;

const statusOf = (code: ErrorCode): number =>
  isConnectOutcomeCode(code) ? connectOutcomeStatus[code] : errorStatus[code];

export interface AppErrorOptions {
  /** Overrides the code's usual status, e.g. 429 passed through from a provider. */
  status?: number;
  /** Whether the same call may succeed later without anyone changing anything. */
  retryable?: boolean;
  /** Seconds a client should wait before retrying; sent as Retry-After. */
  retryAfterSeconds?: number;
  /** A browser flow's way back: the page sends the person here instead of showing the error. */
  returnTo?: string;
  cause?: unknown;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  readonly retryAfterSeconds: number | undefined;
  readonly returnTo: string | undefined;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = options.status ?? statusOf(code);
    this.retryable = options.retryable ?? this.status >= 500;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.returnTo = options.returnTo;
  }
}

export function isAppError(value: unknown): value is AppError {
  return value instanceof AppError;
}
