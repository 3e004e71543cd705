import { and, eq, gte, isNull, type SQL } from 'drizzle-orm';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { recordAudit } from '../audit/audit-log.ts';
import type { Db } from '../db/client.ts';
import { type Keyset, tablePage } from '../db/keyset.ts';
import { eventDeliveries } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import { listOf, pageQuery } from '../http/list-schema.ts';
import type { EventDelivery } from './delivery-worker.ts';
import { IdParams, loadSubscription } from './subscription-routes.ts';
import { DeliveryStatus, DeliveryView, toDeliveryView } from './subscription-view.ts';

const deliveriesNewestFirst: Keyset = {
  list: 'event-deliveries',
  direction: 'desc',
  keys: [
    { column: eventDeliveries.createdAt, kind: 'timestamp' },
    { column: eventDeliveries.id, kind: 'text' },
  ],
};

const RECOVER_LIMIT = 10_000;

/** What operators do with deliveries: read them, send one again, send every failed one again. */
export const deliveryRoutes: FastifyPluginAsyncZod<{
  db: Db;
  delivery: Pick<EventDelivery, 'queueAttempt'>;
  now: () => Date;
}> = async (app, { db, delivery, now }) => {
  const tags = ['event-subscriptions'];

  app.get(
    '/event-subscriptions/:id/deliveries',
    {
      schema: {
        tags,
        summary: "A subscription's deliveries, newest first",
        params: IdParams,
        querystring: z.object({ status: DeliveryStatus.optional(), ...pageQuery }),
        response: { 200: listOf(DeliveryView) },
        errors: ['not_found', 'invalid_cursor'],
      },
    },
    async (request) => {
      const subscription = await loadSubscription(db, request.params.id);
      const where: SQL[] = [eq(eventDeliveries.subscriptionId, subscription.id)];
      if (request.query.status) where.push(eq(eventDeliveries.status, request.query.status));
      const { rows, nextCursor } = await tablePage(
        db,
        eventDeliveries,
        deliveriesNewestFirst,
        request.query,
        where,
      );
      return { items: rows.map(toDeliveryView), nextCursor };
    },
  );

  app.post(
    '/event-deliveries/:id/retry',
    {
      schema: {
        tags,
        summary: 'Send a delivery again now (one more attempt, whatever its status)',
        params: IdParams,
        response: { 202: DeliveryView },
        errors: ['not_found', 'subscription_disabled', 'conflict'],
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const [found] = await db.select().from(eventDeliveries).where(eq(eventDeliveries.id, id));
      if (!found) throw new AppError('not_found', `No event delivery with id "${id}".`);
      const subscription = await loadSubscription(db, found.subscriptionId);
      if (!subscription.enabled)
        throw new AppError('subscription_disabled', 'The subscription is disabled; re-enable it first.');
      const at = now();
      const row = await db.transaction(async (tx) => {
        const [updated] = await tx
          .update(eventDeliveries)
          .set({ status: 'pending', nextAttemptAt: at, updatedAt: at })
          .where(
            and(
              eq(eventDeliveries.id, id),
              eq(eventDeliveries.attempts, found.attempts),
              isNull(eventDeliveries.claimToken),
            ),
          )
          .returning();
        if (!updated)
          throw new AppError('conflict', 'An attempt of this delivery is in flight; try again shortly.');
        await delivery.queueAttempt(tx, {
          deliveryId: id,
          attempt: updated.attempts + 1,
          subscriptionId: updated.subscriptionId,
        });
        await recordAudit(tx, {
          actor: 'api',
          action: 'event_delivery.retried',
          subjectType: 'event_delivery',
          subjectId: id,
          metadata: { previousStatus: found.status, attempts: found.attempts },
        });
        return updated;
      });
      return reply.status(202).send(toDeliveryView(row));
    },
  );

  app.post(
    '/event-subscriptions/:id/recover',
    {
      schema: {
        tags,
        summary: 'Send again every failed delivery of this subscription since a time',
        params: IdParams,
        body: z.object({ since: z.iso.datetime({ offset: true }) }),
        response: { 202: z.object({ recovered: z.number() }) },
        errors: ['not_found', 'subscription_disabled'],
      },
    },
    async (request, reply) => {
      const subscription = await loadSubscription(db, request.params.id);
      if (!subscription.enabled)
        throw new AppError('subscription_disabled', 'The subscription is disabled; re-enable it first.');
      const at = now();
      const recovered = await db.transaction(async (tx) => {
        const rows = await tx
          .update(eventDeliveries)
          .set({ status: 'pending', nextAttemptAt: at, updatedAt: at })
          .where(
            and(
              eq(eventDeliveries.subscriptionId, subscription.id),
              eq(eventDeliveries.status, 'failed'),
              gte(eventDeliveries.createdAt, new Date(request.body.since)),
              isNull(eventDeliveries.claimToken),
            ),
          )
          .returning({ id: eventDeliveries.id, attempts: eventDeliveries.attempts });
        if (rows.length > RECOVER_LIMIT)
          throw new AppError(
            'validation_failed',
            `More than ${RECOVER_LIMIT} failed deliveries since then; pick a later "since".`,
          );
        for (const row of rows)
          await delivery.queueAttempt(tx, {
            deliveryId: row.id,
            attempt: row.attempts + 1,
            subscriptionId: subscription.id,
          });
        await recordAudit(tx, {
          actor: 'api',
          action: 'event_subscription.recovered',
          subjectType: 'event_subscription',
          subjectId: subscription.id,
          metadata: { since: request.body.since, deliveries: rows.length },
        });
        return rows.length;
      });
      return reply.status(202).send({ recovered });
    },
  );
};
