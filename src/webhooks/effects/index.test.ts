import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EffectsDatabase, makeEffectsDatabase } from '../../../test/harness/webhook-effects.ts';
import { payments, signatureRequests } from '../../db/schema.ts';
import { WEBHOOK_SOURCE_DEFINITIONS } from '../sources/index.ts';

describe('applyWebhookEvent', () => {
  let t: EffectsDatabase;
  beforeAll(async () => {
    t = await makeEffectsDatabase();
  });
  afterAll(() => t.dispose());

  it.each([
    ['stripe', 'customer.subscription.updated'],
    ['paypal', 'BILLING.SUBSCRIPTION.CREATED'],
    ['docusign-connect', 'envelope-purge'],
    ['gmail-pubsub', 'something.else'],
  ] as const)('ignores %s events of an unknown type (%s) and writes nothing', async (source, type) => {
    const result = await t.apply({ source, eventId: `e-${type}`, type, payload: { anything: true } });
    expect(result.effect).toBe('ignored');
    expect(result.detail).toContain(type);
  });

  it('ignores a source it has no effects for', async () => {
    const result = await t.apply({ source: 'slack' as never, eventId: 'x', type: 'x', payload: {} });
    expect(result.effect).toBe('ignored');
  });

  it('writes nothing when a known type’s payload is malformed', async () => {
    for (const { name: source, effect } of WEBHOOK_SOURCE_DEFINITIONS) {
      for (const type of effect.types) {
        await expect(
          t.apply({ source, eventId: `bad-${type}`, type, payload: { nope: 1 } }),
        ).rejects.toMatchObject({ code: 'malformed_payload' });
      }
    }
    expect(await t.database.db.select().from(payments)).toEqual([]);
    expect(await t.database.db.select().from(signatureRequests)).toEqual([]);
  });
});
