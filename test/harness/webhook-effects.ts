import { randomBytes } from 'node:crypto';
import { migrate } from '../../src/db/migrate.ts';
import type { ConnectPayload } from '../../src/sandbox/webhooks/docusign-connect.ts';
import type { PaypalEvent } from '../../src/sandbox/webhooks/paypal-events.ts';
import type { StripeEvent } from '../../src/sandbox/webhooks/stripe-events.ts';
import { applyWebhookEvent } from '../../src/webhooks/effects/index.ts';
import type { EffectResult, WebhookEffectInput } from '../../src/webhooks/effects/types.ts';
import { makeTestDatabase, type TestDatabase } from './database.ts';

// Test support for the webhook effects: a migrated database and the inbox events the verifiers
// would hand the worker, built from the sandbox's event factories.

export type EffectEvent = Omit<WebhookEffectInput, 'rowId' | 'integrationKey'> & { integrationKey?: string };

export interface EffectsDatabase extends TestDatabase {
  /** Applies one event in its own transaction, as the worker does. */
  apply(event: EffectEvent): Promise<EffectResult>;
}

export async function makeEffectsDatabase(): Promise<EffectsDatabase> {
  const t = await makeTestDatabase();
  await migrate(t.database);
  return {
    ...t,
    apply: (event) =>
      t.database.db.transaction((tx) =>
        applyWebhookEvent(tx, {
          rowId: `whe_${randomBytes(8).toString('hex')}`,
          integrationKey: 'test-integration',
          ...event,
        }),
      ),
  };
}

export const stripeInbox = (event: StripeEvent): EffectEvent => ({
  source: 'stripe',
  eventId: event.id,
  type: event.type,
  payload: event,
});

export const paypalInbox = (event: PaypalEvent): EffectEvent => ({
  source: 'paypal',
  eventId: event.id,
  type: event.event_type,
  payload: event,
});

export const docusignInbox = (payload: ConnectPayload): EffectEvent => ({
  source: 'docusign-connect',
  eventId: `${payload.data.envelopeId}|${payload.event}|${payload.generatedDateTime}`,
  type: payload.event,
  payload,
});

export const gmailInbox = (emailAddress: string, historyId: string): EffectEvent => {
  const messageId = String(randomBytes(6).readUIntBE(0, 6));
  return {
    source: 'gmail-pubsub',
    eventId: messageId,
    type: 'gmail.notification',
    payload: { emailAddress, historyId, messageId, publishTime: new Date().toISOString() },
  };
};
