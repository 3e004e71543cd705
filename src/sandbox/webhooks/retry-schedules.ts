import type { WebhookSource } from './delivery.ts';

// How long each real sender waits between attempts, and how long it waits for an answer.
// Only PayPal (25 attempts over 3 days), Pub/Sub (10 s … 600 s backoff) and DocuSign (answer
// within 5 s) publish numbers; Stripe says "up to 3 days, exponential backoff" and DocuSign
// "for days", so those curves are plausible shapes, not published tables. The delivery
// engine compresses them with a time scale.

export interface RetrySchedule {
  /** Delay before the first retry. */
  firstMs: number;
  factor: number;
  /** No single delay is longer. */
  capMs: number;
  /** No retry starts later than this after the first attempt. */
  windowMs: number;
  /** Total attempts, first included; unbounded within the window when absent. */
  maxAttempts?: number;
}

export interface SenderPolicy {
  schedule: RetrySchedule;
  /** How long the sender waits for a response before counting the attempt failed. */
  timeoutMs: number;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export const SENDER_POLICIES: Record<WebhookSource, SenderPolicy> = {
  stripe: {
    schedule: { firstMs: MINUTE, factor: 2, capMs: 12 * HOUR, windowMs: 3 * DAY },
    timeoutMs: 20 * SECOND,
  },
  paypal: {
    schedule: { firstMs: MINUTE, factor: 1.5, capMs: 6 * HOUR, windowMs: 3 * DAY, maxAttempts: 25 },
    timeoutMs: 20 * SECOND,
  },
  'docusign-connect': {
    schedule: { firstMs: 5 * MINUTE, factor: 2, capMs: 12 * HOUR, windowMs: 3 * DAY },
    timeoutMs: 5 * SECOND,
  },
  // Pub/Sub redelivers until the message expires (7 days retention by default); a push
  // counts as failed when the ack deadline (10 s by default) passes.
  'gmail-pubsub': {
    schedule: { firstMs: 10 * SECOND, factor: 2, capMs: 600 * SECOND, windowMs: 7 * DAY },
    timeoutMs: 10 * SECOND,
  },
};

/** The delays before retry 1, 2, … in real milliseconds, as the sender would wait them. */
export function retryDelays(schedule: RetrySchedule): number[] {
  const delays: number[] = [];
  let elapsed = 0;
  let next = schedule.firstMs;
  while (schedule.maxAttempts === undefined || delays.length < schedule.maxAttempts - 1) {
    const delay = Math.min(next, schedule.capMs);
    if (elapsed + delay > schedule.windowMs) break;
    delays.push(delay);
    elapsed += delay;
    next *= schedule.factor;
  }
  return delays;
}
