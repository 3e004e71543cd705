// What every webhook verifier takes and answers. A verifier is pure of HTTP routing and of the
// database: it gets the raw bytes and headers of one delivery and answers either the verified
// event (with the dedupe key the sender guarantees stable across retries) or a rejection with a
// stable reason. It never throws for anything a sender (or an attacker) can put in a request.

export const WEBHOOK_SOURCES = ['stripe', 'paypal', 'docusign-connect', 'gmail-pubsub'] as const;
export type WebhookSource = (typeof WEBHOOK_SOURCES)[number];

/**
 * Why a delivery was refused, with the HTTP status the receiving route should answer.
 * `retryable` reasons are our side or the sender's key server failing (answer 503 so the sender
 * retries); every other reason is the request's fault and a retry of the same bytes fails again.
 */
export const REJECT_REASONS = {
  /** A required header is absent (signature, certificate URL, Authorization, ...). */
  missing_header: { status: 401, retryable: false },
  /** A header is present but not in the sender's format. */
  malformed_header: { status: 401, retryable: false },
  /** The signature does not match the raw body under any configured secret or key. */
  bad_signature: { status: 401, retryable: false },
  /** The signed timestamp is outside the allowed window (replay or clock skew). */
  timestamp_out_of_range: { status: 401, retryable: false },
  /** PayPal: the certificate URL is not https on an allowed host (or an allowed origin). */
  cert_url_not_allowed: { status: 401, retryable: false },
  /** PayPal: the certificate could not be fetched (network, timeout, non-2xx, too large). */
  cert_fetch_failed: { status: 503, retryable: true },
  /** PayPal: the certificate is unparsable, expired, not yet valid, wrongly named or untrusted. */
  cert_invalid: { status: 401, retryable: false },
  /** PayPal online mode: PayPal's verification API could not be reached or answered an error. */
  verification_unavailable: { status: 503, retryable: true },
  /** Pub/Sub: the bearer token is not a well-formed, verifiable JWT for this receiver. */
  token_invalid: { status: 401, retryable: false },
  /** Pub/Sub: the token's exp (or iat age) has passed. */
  token_expired: { status: 401, retryable: false },
  /** Pub/Sub: iss is not Google. */
  wrong_issuer: { status: 401, retryable: false },
  /** Pub/Sub: aud is not the configured audience. */
  wrong_audience: { status: 401, retryable: false },
  /** Pub/Sub: email is not the configured push service account, or is not verified. */
  wrong_email: { status: 401, retryable: false },
  /** Pub/Sub: Google's signing keys (JWKS) could not be fetched. */
  jwks_unavailable: { status: 503, retryable: true },
  /** The signature verifies but the body is not the sender's JSON shape (no event id, ...). */
  malformed_payload: { status: 400, retryable: false },
} as const satisfies Record<string, { status: number; retryable: boolean }>;

export type RejectReason = keyof typeof REJECT_REASONS;

/** One incoming delivery, exactly as received. */
export interface WebhookRequest {
  /** The request body bytes, untouched: every scheme signs these. */
  rawBody: Uint8Array;
  /** Node's header object (any case is accepted; repeated headers may arrive as arrays). */
  headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** The public URL the delivery was addressed to (the Pub/Sub audience when none is configured). */
  url?: string;
}

export interface VerifiedEvent<P = unknown> {
  ok: true;
  /** The sender's dedupe key: the same on every retry and duplicate of one event. */
  eventId: string;
  eventType: string;
  payload: P;
}

export interface Rejection {
  ok: false;
  reason: RejectReason;
  /** For logs and the rejection counter; never contains the body, a signature or a secret. */
  message: string;
}

export type VerifyResult<P = unknown> = VerifiedEvent<P> | Rejection;

export interface WebhookVerifier<P = unknown> {
  readonly source: WebhookSource;
  /** `now` is the receiver's clock (timestamps, token and certificate validity); default: real time. */
  verify(request: WebhookRequest, now?: Date): Promise<VerifyResult<P>>;
}

export function reject(reason: RejectReason, message: string): Rejection {
  return { ok: false, reason, message };
}

export function accept<P>(eventId: string, eventType: string, payload: P): VerifiedEvent<P> {
  return { ok: true, eventId, eventType, payload };
}
