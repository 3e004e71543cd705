import { and, eq } from 'drizzle-orm';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { recordAudit } from '../audit/audit-log.ts';
import type { Sealer } from '../crypto/seal.ts';
import type { Db } from '../db/client.ts';
import { type Keyset, tablePage } from '../db/keyset.ts';
import { eventSubscriptions } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import { listOf, pageQuery } from '../http/list-schema.ts';
import { makeId } from '../ids.ts';
import { freshSecrets, openSecrets, rotated, sealSecrets } from './subscription-secrets.ts';
import { EventList, SubscriptionView, toSubscriptionView, WithSecret } from './subscription-view.ts';
import { type UrlPolicy, urlProblem } from './url-guard.ts';

const subscriptionsOldestFirst: Keyset = {
  list: 'event-subscriptions',
  direction: 'asc',
  keys: [
    { column: eventSubscriptions.createdAt, kind: 'timestamp' },
    { column: eventSubscriptions.id, kind: 'text' },
  ],
};

export const IdParams = z.object({ id: z.string().max(100) });
const Url = z.string().max(2048).describe('http(s) URL that receives the events');

export interface EventRouteDeps {
  db: Db;
  sealer: Sealer;
  policy: UrlPolicy;
  now: () => Date;
}

export function checkUrl(url: string, policy: UrlPolicy): string {
  const problem = urlProblem(url, policy);
  if (problem) throw new AppError('invalid_event_url', `"url" ${problem}.`);
  return url;
}

export async function loadSubscription(db: Db, id: string) {
  const [row] = await db.select().from(eventSubscriptions).where(eq(eventSubscriptions.id, id));
  if (!row) throw new AppError('not_found', `No event subscription with id "${id}".`);
  return row;
}

/** The host app's endpoints: create, list, read, change, delete, rotate the secret. */
export const subscriptionRoutes: FastifyPluginAsyncZod<EventRouteDeps> = async (app, deps) => {
  const { db, sealer, policy, now } = deps;
  const tags = ['event-subscriptions'];

  app.post(
    '/event-subscriptions',
    {
      schema: {
        tags,
        summary: 'Subscribe an endpoint to events (the answer holds its signing secret, shown once)',
        body: z.object({ url: Url, events: EventList, description: z.string().max(500).optional() }).meta({
          examples: [
            { url: 'https://app.example.com/tether-events', events: ['connection.reauthorization_required'] },
          ],
        }),
        response: { 201: WithSecret },
        errors: ['invalid_event_url'],
      },
    },
    async (request, reply) => {
      const { url, events, description } = request.body;
      checkUrl(url, policy);
      const id = makeId('esub');
      const secrets = freshSecrets();
      const at = now();
      const row = await db.transaction(async (tx) => {
        const [created] = await tx
          .insert(eventSubscriptions)
          .values({
            id,
            url,
            events: [...new Set(events)],
            description: description ?? null,
            secretsSealed: sealSecrets(sealer, id, secrets),
            createdAt: at,
            updatedAt: at,
          })
          .returning();
        await recordAudit(tx, {
          actor: 'api',
          action: 'event_subscription.created',
          subjectType: 'event_subscription',
          subjectId: id,
          metadata: { events },
        });
        return created!;
      });
      return reply.status(201).send({ ...toSubscriptionView(row), secret: secrets.current });
    },
  );

  app.get(
    '/event-subscriptions',
    {
      schema: {
        tags,
        summary: 'Event subscriptions, oldest first (secrets are never listed)',
        querystring: z.object({ ...pageQuery }),
        response: { 200: listOf(SubscriptionView) },
        errors: ['invalid_cursor'],
      },
    },
    async (request) => {
      const { rows, nextCursor } = await tablePage(
        db,
        eventSubscriptions,
        subscriptionsOldestFirst,
        request.query,
      );
      return { items: rows.map(toSubscriptionView), nextCursor };
    },
  );

  app.get(
    '/event-subscriptions/:id',
    {
      schema: {
        tags,
        summary: 'One event subscription',
        params: IdParams,
        response: { 200: SubscriptionView },
        errors: ['not_found'],
      },
    },
    async (request) => toSubscriptionView(await loadSubscription(db, request.params.id)),
  );

  app.patch(
    '/event-subscriptions/:id',
    {
      schema: {
        tags,
        summary: 'Change a subscription; {"enabled": true} re-enables one tether disabled',
        params: IdParams,
        body: z.object({
          url: Url.optional(),
          events: EventList.optional(),
          description: z.string().max(500).nullable().optional(),
          enabled: z.boolean().optional(),
        }),
        response: { 200: SubscriptionView },
        errors: ['not_found', 'invalid_event_url'],
      },
    },
    async (request) => {
      const current = await loadSubscription(db, request.params.id);
      const { url, events, description, enabled } = request.body;
      if (url !== undefined) checkUrl(url, policy);
      const at = now();
      const reenabled = enabled === true && !current.enabled;
      const row = await db.transaction(async (tx) => {
        const [updated] = await tx
          .update(eventSubscriptions)
          .set({
            ...(url !== undefined ? { url } : {}),
            ...(events !== undefined ? { events: [...new Set(events)] } : {}),
            ...(description !== undefined ? { description } : {}),
            ...(enabled !== undefined ? { enabled } : {}),
            // Re-enabled: a clean slate, so the 5-day rule and the breaker start over.
            ...(reenabled
              ? { disabledReason: null, consecutiveFailures: 0, failingSince: null, breakerOpenUntil: null }
              : {}),
            ...(enabled === false && current.enabled ? { disabledReason: 'by_operator' } : {}),
            updatedAt: at,
          })
          .where(eq(eventSubscriptions.id, current.id))
          .returning();
        if (!updated) throw new AppError('not_found', `No event subscription with id "${current.id}".`);
        await recordAudit(tx, {
          actor: 'api',
          action: 'event_subscription.updated',
          subjectType: 'event_subscription',
          subjectId: current.id,
          metadata: { fields: Object.keys(request.body), ...(reenabled ? { reenabled: true } : {}) },
        });
        return updated;
      });
      return toSubscriptionView(row);
    },
  );

  app.delete(
    '/event-subscriptions/:id',
    {
      schema: {
        tags,
        summary: 'Delete a subscription and its deliveries',
        params: IdParams,
        response: { 204: z.null().describe('Deleted') },
        errors: ['not_found'],
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      await db.transaction(async (tx) => {
        const [deleted] = await tx
          .delete(eventSubscriptions)
          .where(eq(eventSubscriptions.id, id))
          .returning({ id: eventSubscriptions.id });
        if (!deleted) throw new AppError('not_found', `No event subscription with id "${id}".`);
        await recordAudit(tx, {
          actor: 'api',
          action: 'event_subscription.deleted',
          subjectType: 'event_subscription',
          subjectId: id,
        });
      });
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/event-subscriptions/:id/rotate-secret',
    {
      schema: {
        tags,
        summary: 'A new signing secret; the old one keeps signing beside it for 24 hours',
        params: IdParams,
        response: { 200: WithSecret },
        errors: ['not_found'],
      },
    },
    async (request) => {
      const current = await loadSubscription(db, request.params.id);
      const at = now();
      const next = rotated(openSecrets(sealer, current.id, current.secretsSealed), at);
      const row = await db.transaction(async (tx) => {
        // Guarded by the sealed value read: two rotations at once cannot both keep "their" previous.
        const [updated] = await tx
          .update(eventSubscriptions)
          .set({ secretsSealed: sealSecrets(sealer, current.id, next), updatedAt: at })
          .where(
            and(
              eq(eventSubscriptions.id, current.id),
              eq(eventSubscriptions.secretsSealed, current.secretsSealed),
            ),
          )
          .returning();
        if (!updated) throw new AppError('conflict', 'The secret was rotated at the same time; try again.');
        await recordAudit(tx, {
          actor: 'api',
          action: 'event_subscription.secret_rotated',
          subjectType: 'event_subscription',
          subjectId: current.id,
          metadata: { previousValidUntil: next.previousUntil },
        });
        return updated;
      });
      return { ...toSubscriptionView(row), secret: next.current };
    },
  );
};
