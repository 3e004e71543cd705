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
  invalid_event_url: 400,
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
  subscription_disabled: 409,
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

export type ErrorCode = keyof typeof errorStatus;

export interface AppErrorOptions {
  /** Overrides the code's usual status, e.g. 429 passed through from a provider. */
  status?: number;
  /** Whether the same call may succeed later without anyone changing anything. */
  retryable?: boolean;
  /** Seconds a client should wait before retrying; sent as Retry-After. */
  retryAfterSeconds?: number;
  cause?: unknown;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = options.status ?? errorStatus[code];
    this.retryable = options.retryable ?? this.status >= 500;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export function isAppError(value: unknown): value is AppError {
  return value instanceof AppError;
}
