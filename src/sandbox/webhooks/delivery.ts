// What every sender hands the delivery engine. A sender does not return one fixed request:
// real senders rebuild some of it on each attempt (Stripe re-signs with a fresh timestamp,
// DocuSign bumps retryCount, Google mints a fresh token), so an outbound is a builder that
// the engine calls once per attempt.

export const WEBHOOK_SOURCES = ['stripe', 'paypal', 'docusign-connect', 'gmail-pubsub'] as const;
export type WebhookSource = (typeof WEBHOOK_SOURCES)[number];

export interface Delivery {
  method: 'POST';
  headers: Record<string, string>;
  /** The exact bytes sent, as UTF-8 text: receivers verify signatures over these. */
  body: string;
}

export interface AttemptContext {
  /** 1 for the first try, 2 for the first retry, … */
  attempt: number;
  now: Date;
}

export interface Outbound {
  source: WebhookSource;
  /** What a correct receiver deduplicates on (event id, message id, …); stable across attempts. */
  dedupeKey: string;
  build(ctx: AttemptContext): Delivery | Promise<Delivery>;
}

/** The top-level string `id` of a JSON body, or '' (raw test payloads need not be JSON). */
export function readJsonId(body: string): string {
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed && typeof parsed === 'object' && 'id' in parsed && typeof parsed.id === 'string')
      return parsed.id;
  } catch {
    // not JSON: no id
  }
  return '';
}
