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
  unknown_sync: 404,
  method_not_allowed: 405,
  request_timeout: 408,
  conflict: 409,
  not_connected: 409,
  reauthorization_required: 409,
  proxy_not_configured: 409,
  refresh_not_supported: 409,
  refresh_too_early: 409,
  sync_running: 409,
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

/** The codes an HTTP answer carries (`{"error": {"code"}}`). */
export type HttpErrorCode = keyof typeof errorStatus;

/**
 * Why an inbound webhook delivery was refused: the verifiers' reasons, met as the `reason` label
 * of `tether_webhooks_total{outcome="rejected"}` and as `metadata.reason` of `webhook.rejected`
 * audit entries. The HTTP answer is `answer` with `status`. `retryable` reasons are our side or
 * the sender's key server failing (503, so the sender retries); every other one is the request's
 * fault, and a retry of the same bytes fails again.
 */
export const webhookRejectCodes = {
  /** A required header is absent (signature, certificate URL, Authorization, ...). */
  missing_header: { status: 401, retryable: false, answer: 'invalid_signature' },
  /** A header is present but not in the sender's format. */
  malformed_header: { status: 401, retryable: false, answer: 'invalid_signature' },
  /** The signature does not match the raw body under any configured secret or key. */
  bad_signature: { status: 401, retryable: false, answer: 'invalid_signature' },
  /** The signed timestamp is outside the allowed window (replay or clock skew). */
  timestamp_out_of_range: { status: 401, retryable: false, answer: 'invalid_signature' },
  /** PayPal: the certificate URL is not https on an allowed host (or an allowed origin). */
  cert_url_not_allowed: { status: 401, retryable: false, answer: 'invalid_signature' },
  /** PayPal: the certificate could not be fetched (network, timeout, non-2xx, too large). */
  cert_fetch_failed: { status: 503, retryable: true, answer: 'service_unavailable' },
  /** PayPal: the certificate is unparsable, expired, not yet valid, wrongly named or untrusted. */
  cert_invalid: { status: 401, retryable: false, answer: 'invalid_signature' },
  /** PayPal online mode: PayPal's verification API could not be reached or answered an error. */
  verification_unavailable: { status: 503, retryable: true, answer: 'service_unavailable' },
  /** Pub/Sub: the bearer token is not a well-formed, verifiable JWT for this receiver. */
  token_invalid: { status: 401, retryable: false, answer: 'invalid_signature' },
  /** Pub/Sub: the token's exp (or iat age) has passed. */
  token_expired: { status: 401, retryable: false, answer: 'invalid_signature' },
  /** Pub/Sub: iss is not Google. */
  wrong_issuer: { status: 401, retryable: false, answer: 'invalid_signature' },
  /** Pub/Sub: aud is not the configured audience. */
  wrong_audience: { status: 401, retryable: false, answer: 'invalid_signature' },
  /** Pub/Sub: email is not the configured push service account, or is not verified. */
  wrong_email: { status: 401, retryable: false, answer: 'invalid_signature' },
  /** Pub/Sub: Google's signing keys (JWKS) could not be fetched. */
  jwks_unavailable: { status: 503, retryable: true, answer: 'service_unavailable' },
  /**
   * The signature verifies but the body is not the sender's JSON shape (no event id, ...). Also
   * thrown by an effect whose known event type lacks a field it reads: the event fails, is
   * retried, and is finally dead.
   */
  malformed_payload: { status: 400, retryable: false, answer: 'bad_request' },
} as const satisfies Record<string, { status: number; retryable: boolean; answer: HttpErrorCode }>;

export type WebhookRejectCode = keyof typeof webhookRejectCodes;

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

/** Every code a user can meet: HTTP answers, connect outcomes (pages, redirects), webhook rejection reasons (metric labels, audit). */
export type ErrorCode = HttpErrorCode | ConnectOutcomeCode | WebhookRejectCode;

/** The status a code answers with (a rejection reason: the status its delivery is answered). */
export function statusOf(code: ErrorCode): number {
  if (Object.hasOwn(errorStatus, code)) return errorStatus[code as HttpErrorCode];
  if (isConnectOutcomeCode(code)) return connectOutcomeStatus[code];
  return webhookRejectCodes[code as WebhookRejectCode].status;
}

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
  /** Fastify's name for the status, so an error handler not tether's (the sandbox's) answers it too. */
  readonly statusCode: number;
  readonly retryable: boolean;
  readonly retryAfterSeconds: number | undefined;
  readonly returnTo: string | undefined;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = options.status ?? statusOf(code);
    this.statusCode = this.status;
    this.retryable = options.retryable ?? this.status >= 500;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.returnTo = options.returnTo;
  }
}

export function isAppError(value: unknown): value is AppError {
  return value instanceof AppError;
}
