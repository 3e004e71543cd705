import { describe, expect, it } from 'vitest';
import { retryDelays, SENDER_POLICIES } from './retry-schedules.ts';

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const DAY = 86_400_000;

describe('sender retry schedules', () => {
  it('gives PayPal 25 attempts spread over at most 3 days', () => {
    const delays = retryDelays(SENDER_POLICIES.paypal.schedule);
    expect(delays).toHaveLength(24);
    expect(sum(delays)).toBeLessThanOrEqual(3 * DAY);
    expect(sum(delays)).toBeGreaterThan(2 * DAY);
  });

  it('backs Pub/Sub off from 10 s to at most 600 s', () => {
    const delays = retryDelays(SENDER_POLICIES['gmail-pubsub'].schedule);
    expect(delays.slice(0, 3)).toEqual([10_000, 20_000, 40_000]);
    expect(Math.max(...delays)).toBe(600_000);
  });

  it('keeps Stripe retrying with growing delays for up to 3 days', () => {
    const delays = retryDelays(SENDER_POLICIES.stripe.schedule);
    expect(delays[1]!).toBeGreaterThan(delays[0]!);
    expect(sum(delays)).toBeLessThanOrEqual(3 * DAY);
    expect(sum(delays)).toBeGreaterThan(2 * DAY);
  });

  it('gives DocuSign Connect the 5 second answer deadline', () => {
    expect(SENDER_POLICIES['docusign-connect'].timeoutMs).toBe(5000);
  });
});
