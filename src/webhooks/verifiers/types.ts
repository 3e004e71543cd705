// What every webhook verifier takes and answers. A verifier is pure of HTTP routing and of the
// database: it gets the raw bytes and headers of one delivery and answers either the verified
// event (with the dedupe key the sender guarantees stable across retries) or a rejection with a
// stable reason. It never throws for anything a sender (or an attacker) can put in a request.

import { type WebhookRejectCode, webhookRejectCodes } from '../../errors.ts';
import type { WebhookSource } from '../sources/index.ts';
import type { JwksCache } from './jwks-cache.ts';
import type { PaypalCertStore } from './paypal-certs.ts';

export type { WebhookSource };

/** What verifiers of one registry share. */
export interface VerifierDeps {
  /** Shared by every PayPal verifier built here, so a certificate is fetched once per URL. */
  paypalCerts: PaypalCertStore;
  /** Shared by every Pub/Sub verifier built here, so Google's keys are fetched once per URL. */
  jwks: JwksCache;
}

/**
 * Why a delivery was refused, with the HTTP status the receiving route answers: codes of the one
 * code union (src/errors.ts, listed in docs/errors.md), since they reach metrics and the audit log.
 */
export const REJECT_REASONS = webhookRejectCodes;

export type RejectReason = WebhookRejectCode;

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
