import { createHmac } from 'node:crypto';
import { safeEqual } from '../../crypto/constant-time.ts';
import { jsonObject, singleHeader, stringField } from './request.ts';
import { accept, reject, type VerifyResult, type WebhookRequest, type WebhookVerifier } from './types.ts';

// Stripe: `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>…]`, each v1 an HMAC-SHA256
// of `${t}.${rawBody}` keyed with the whole secret string (whsec_ prefix included). Any v1
// matching any configured secret passes (Stripe's secret roll, and ours). Checked in this
// order, so a timestamp rejection means an authentic but stale (or future) delivery:
//   header present → header well-formed → a signature matches → t within the window → JSON event.
// This is stripe-node's constructEvent over the raw bytes (stripe.test.ts proves the two agree
// by a property test), with three differences: comparisons go through safeEqual, the future
// side of the window is bounded too (stripe-node accepts any future t), and an event with U+0000
// in a string is refused as malformed (PostgreSQL cannot store it; see request.ts).

const STRIPE_DEFAULT_TOLERANCE_SECONDS = 300;

export interface StripeVerifierOptions {
  /** Every active endpoint secret (`whsec_…`); a delivery signed with any of them passes. */
  secrets: readonly string[];
  /** How old t may be (default 300 s, stripe-node's default). */
  toleranceSeconds?: number;
  /** How far ahead of our clock t may be (default: the same as toleranceSeconds). */
  futureToleranceSeconds?: number;
}

export interface StripeEvent {
  id: string;
  type: string;
  [key: string]: unknown;
}

export function makeStripeVerifier(options: StripeVerifierOptions): WebhookVerifier<StripeEvent> {
  if (options.secrets.length === 0 || options.secrets.some((s) => s === '')) {
    throw new TypeError('"secrets" must hold at least one non-empty secret');
  }
  const secrets = [...options.secrets];
  const pastSeconds = options.toleranceSeconds ?? STRIPE_DEFAULT_TOLERANCE_SECONDS;
  const futureSeconds = options.futureToleranceSeconds ?? pastSeconds;

  return {
    source: 'stripe',
    async verify(request: WebhookRequest, now = new Date()): Promise<VerifyResult<StripeEvent>> {
      const header = singleHeader(request.headers, 'Stripe-Signature');
      if (!header.ok) return header;
      const parsed = parseStripeSignature(header.value);
      if (typeof parsed === 'string') return reject('malformed_header', parsed);

      const matched = secrets.some((secret) => {
        const expected = createHmac('sha256', secret)
          .update(`${parsed.timestamp}.`, 'utf8')
          .update(request.rawBody)
          .digest('hex');
        return parsed.signatures.some((candidate) => safeEqual(candidate, expected));
      });
      if (!matched) {
        return reject('bad_signature', 'No v1 signature matches the body under any configured secret.');
      }

      const age = Math.floor(now.getTime() / 1000) - parsed.timestamp;
      if (age > pastSeconds || -age > futureSeconds) {
        return reject(
          'timestamp_out_of_range',
          `The signature timestamp is ${Math.abs(age)} s in the ${age > 0 ? 'past' : 'future'}; allowed: ${pastSeconds} s past, ${futureSeconds} s future.`,
        );
      }

      const event = jsonObject(request.rawBody);
      const id = event && stringField(event, 'id');
      const type = event && stringField(event, 'type');
      if (!event || !id || !type) {
        return reject(
          'malformed_payload',
          'The body is not a Stripe event (a JSON object with "id" and "type").',
        );
      }
      return accept(id, type, event as StripeEvent);
    },
  };
}

export interface StripeSignatureHeader {
  timestamp: number;
  /** The v1 entries; other schemes (v0) are ignored, as Stripe documents. */
  signatures: string[];
}

/** Parses `t=…,v1=…[,v1=…]`; answers a message saying what is wrong when it is not that. */
function parseStripeSignature(header: string): StripeSignatureHeader | string {
  const timestamps: string[] = [];
  const signatures: string[] = [];
  for (const item of header.split(',')) {
    const eq = item.indexOf('=');
    if (eq === -1) continue;
    const key = item.slice(0, eq);
    if (key === 't') timestamps.push(item.slice(eq + 1));
    else if (key === 'v1') signatures.push(item.slice(eq + 1));
  }
  if (timestamps.length !== 1) return 'The Stripe-Signature header must carry exactly one t= entry.';
  if (!/^\d{1,15}$/.test(timestamps[0]!)) return 'The Stripe-Signature t= entry is not unix seconds.';
  if (signatures.length === 0) return 'The Stripe-Signature header carries no v1 signature.';
  // stripe-node refuses these too (it throws on an empty value): keep the two in step.
  if (signatures.includes('')) return 'The Stripe-Signature header carries an empty v1 entry.';
  return { timestamp: Number(timestamps[0]), signatures };
}
