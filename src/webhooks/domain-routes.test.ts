import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  docusignInbox,
  type EffectsDatabase,
  gmailInbox,
  makeEffectsDatabase,
  paypalInbox,
  stripeInbox,
} from '../../test/harness/webhook-effects.ts';
import { payments } from '../db/schema.ts';
import { installErrorHandling } from '../http/error-handler.ts';
import { makeConnectPayload } from '../sandbox/webhooks/docusign-connect.ts';
import { makePaypalEvent } from '../sandbox/webhooks/paypal-events.ts';
import { makeStripeEvent } from '../sandbox/webhooks/stripe-events.ts';
import { domainRoutes } from './domain-routes.ts';

describe('the payments, signature requests and Gmail mailboxes routes', () => {
  let t: EffectsDatabase;
  let app: FastifyInstance;
  beforeAll(async () => {
    t = await makeEffectsDatabase();
    app = Fastify();
    app.setValidatorCompiler(validatorCompiler);
    app.setSerializerCompiler(serializerCompiler);
    installErrorHandling(app);
    await app.register(domainRoutes, { db: t.database.db, prefix: '/v1' });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await t.dispose();
  });

  const get = async (url: string) => {
    const response = await app.inject({ method: 'GET', url });
    return { status: response.statusCode, body: response.json() };
  };

  it('lists payments with filters and reads one by id', async () => {
    await t.apply(
      stripeInbox(
        makeStripeEvent('payment_intent.succeeded', { object: { id: 'pi_routes_1' }, amount: 1234 }),
      ),
    );
    await t.apply({
      ...paypalInbox(makePaypalEvent('PAYMENT.CAPTURE.COMPLETED')),
      integrationKey: 'paypal-main',
    });

    const stripe = await get('/v1/payments?provider=stripe&providerObjectId=pi_routes_1');
    expect(stripe.status).toBe(200);
    expect(stripe.body.items).toEqual([
      expect.objectContaining({
        provider: 'stripe',
        integration: 'test-integration',
        providerObjectId: 'pi_routes_1',
        status: 'succeeded',
        amount: 1234,
        currency: 'USD',
        refundedAmount: 0,
        disputeStatus: null,
      }),
    ]);
    const byIntegration = await get('/v1/payments?integration=paypal-main');
    expect(byIntegration.body.items.map((p: { provider: string }) => p.provider)).toEqual(['paypal']);
    expect((await get('/v1/payments?status=refunded')).body.items).toEqual([]);

    const one = await get(`/v1/payments/${stripe.body.items[0].id}`);
    expect(one.body).toEqual(stripe.body.items[0]);
    expect(await get('/v1/payments/pay_missing')).toEqual({
      status: 404,
      body: { error: { code: 'not_found', message: 'No payment with id "pay_missing".' } },
    });
  });

  it('pages newest first without duplicates or gaps, even when rows share a created_at', async () => {
    const createdAt = new Date('2020-01-01T00:00:00.123Z');
    const ids = ['pay_page_a', 'pay_page_b', 'pay_page_c', 'pay_page_d'];
    await t.database.db.insert(payments).values(
      ids.map((id, i) => ({
        id,
        provider: 'stripe',
        integrationKey: 'paging',
        providerObjectId: `pi_${id}`,
        status: 'succeeded',
        statusRank: 70,
        // Two rows at one instant, to the microsecond.
        createdAt: i < 2 ? createdAt : new Date(createdAt.getTime() + i * 1000),
      })),
    );
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `/v1/payments?integration=paging&limit=1${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await get(query);
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((p: { id: string }) => p.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['pay_page_d', 'pay_page_c', 'pay_page_b', 'pay_page_a']);
  });

  it('refuses an invalid filter or a cursor it did not issue', async () => {
    expect((await get('/v1/payments?status=paid')).body.error.code).toBe('validation_failed');
    expect(await get('/v1/payments?cursor=bm9wZQ')).toEqual({
      status: 400,
      body: { error: { code: 'invalid_cursor', message: expect.any(String) } },
    });
  });

  it('lists signature requests by status and reads one by envelope id', async () => {
    const envelopeId = randomUUID();
    await t.apply(docusignInbox(makeConnectPayload('envelope-sent', { envelopeId })));
    await t.apply(docusignInbox(makeConnectPayload('envelope-completed', { envelopeId })));
    const completed = await get('/v1/signature-requests?status=completed');
    expect(completed.body.items).toEqual([
      expect.objectContaining({ envelopeId, status: 'completed', integration: 'test-integration' }),
    ]);
    expect((await get('/v1/signature-requests?status=sent')).body.items).toEqual([]);
    expect((await get(`/v1/signature-requests/${envelopeId}`)).body).toEqual(completed.body.items[0]);
    expect((await get(`/v1/signature-requests/${randomUUID()}`)).status).toBe(404);
  });

  it('lists Gmail mailboxes with their history id as a decimal string', async () => {
    await t.apply(gmailInbox('a@example.com', '18446744073709551615'));
    await t.apply(gmailInbox('b@example.com', '5'));
    const first = await get('/v1/gmail-mailboxes?limit=1');
    expect(first.body.items).toEqual([
      expect.objectContaining({ emailAddress: 'a@example.com', historyId: '18446744073709551615' }),
    ]);
    const second = await get(`/v1/gmail-mailboxes?limit=1&cursor=${first.body.nextCursor}`);
    expect(second.body).toEqual({
      items: [expect.objectContaining({ emailAddress: 'b@example.com' })],
      nextCursor: null,
    });
  });
});
