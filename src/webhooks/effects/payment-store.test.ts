import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type EffectEvent,
  type EffectsDatabase,
  makeEffectsDatabase,
  stripeInbox,
} from '../../../test/harness/webhook-effects.ts';
import { payments } from '../../db/schema.ts';
import { makeStripeEvent, type StripeEventType } from '../../sandbox/webhooks/stripe-events.ts';
import { applyWebhookEvent } from './index.ts';

describe('payment records under reordering and concurrency', () => {
  let t: EffectsDatabase;
  beforeAll(async () => {
    t = await makeEffectsDatabase();
  });
  afterAll(() => t.dispose());

  const newIntent = () => `pi_${randomBytes(12).toString('hex')}`;
  const onIntent = (type: StripeEventType | 'payment_intent.created', pi: string) => {
    if (type === 'payment_intent.created') {
      // Not among the sandbox's types: a fresh PaymentIntent, waiting for a payment method.
      const event = makeStripeEvent('payment_intent.processing', {
        object: { id: pi, status: 'requires_payment_method', latest_charge: null },
      });
      return stripeInbox({ ...event, type });
    }
    return stripeInbox(
      makeStripeEvent(type, {
        object: type.startsWith('payment_intent.') ? { id: pi } : { payment_intent: pi },
      }),
    );
  };
  const statusOf = async (pi: string) => {
    const [row] = await t.database.db.select().from(payments).where(eq(payments.providerObjectId, pi));
    return row;
  };
  const inTransaction = (event: EffectEvent, hold?: { applied: () => void; gate: Promise<void> }) =>
    t.database.db.transaction(async (tx) => {
      const result = await applyWebhookEvent(tx, {
        rowId: 'whe_test',
        integrationKey: 'test-integration',
        ...event,
      });
      hold?.applied();
      await hold?.gate;
      return result;
    });

  /**
   * Transaction A applies `first` and keeps its transaction open; B applies `second` meanwhile
   * (on PostgreSQL it blocks on A's row; on PGlite it waits for A's transaction), then A commits.
   */
  async function race(first: EffectEvent, second: EffectEvent) {
    let applied!: () => void;
    let release!: () => void;
    const appliedA = new Promise<void>((resolve) => {
      applied = resolve;
    });
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const a = inTransaction(first, { applied, gate });
    await appliedA;
    const b = inTransaction(second);
    setTimeout(release, 100);
    return Promise.all([a, b]);
  }

  it('never regresses when an older event is applied while a newer one is uncommitted', async () => {
    const pi = newIntent();
    const [a, b] = await race(
      onIntent('payment_intent.succeeded', pi),
      onIntent('payment_intent.processing', pi),
    );
    expect([a.effect, b.effect]).toEqual(['applied', 'stale']);
    expect((await statusOf(pi))?.status).toBe('succeeded');
  });

  it('moves forward when a newer event is applied while an older one is uncommitted', async () => {
    const pi = newIntent();
    const [a, b] = await race(
      onIntent('payment_intent.processing', pi),
      onIntent('payment_intent.succeeded', pi),
    );
    expect([a.effect, b.effect]).toEqual(['applied', 'applied']);
    expect((await statusOf(pi))?.status).toBe('succeeded');
  });

  it('ends in the same state whichever concurrent transaction wins', async () => {
    for (let round = 0; round < 5; round++) {
      const pi = newIntent();
      const types: StripeEventType[] = [
        'payment_intent.processing',
        'payment_intent.payment_failed',
        'payment_intent.succeeded',
        'charge.dispute.created',
        'charge.refunded',
        'checkout.session.completed',
      ];
      await Promise.all(types.map((type) => inTransaction(onIntent(type, pi))));
      expect(await statusOf(pi)).toMatchObject({ status: 'refunded', disputeStatus: 'needs_response' });
    }
  });

  it('reaches the highest status of any set of events in any order', async () => {
    const ladder: [StripeEventType | 'payment_intent.created', string, number][] = [
      ['payment_intent.created', 'pending', 10],
      ['payment_intent.processing', 'processing', 40],
      ['payment_intent.payment_failed', 'failed', 50],
      ['payment_intent.succeeded', 'succeeded', 70],
      ['charge.refunded', 'refunded', 90],
    ];
    await fc.assert(
      fc.asyncProperty(fc.shuffledSubarray(ladder, { minLength: 1 }), async (events) => {
        const pi = newIntent();
        for (const [type] of events) await t.apply(onIntent(type, pi));
        const highest = events.reduce((best, e) => (e[2] > best[2] ? e : best));
        expect((await statusOf(pi))?.status).toBe(highest[1]);
      }),
      { numRuns: 30 },
    );
  });
});
