import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Sealer } from '../crypto/seal.ts';
import type { Db } from '../db/client.ts';
import type { PgBoss } from '../jobs/boss.ts';
import type { Logger } from '../logger.ts';
import { deliveryRoutes } from './delivery-routes.ts';
import {
  DEFAULT_DELIVERY_OPTIONS,
  type EventDelivery,
  type EventDeliveryOptions,
  startEventDelivery,
} from './delivery-worker.ts';
import { makeEventMetrics } from './event-metrics.ts';
import { subscriptionRoutes } from './subscription-routes.ts';
import type { UrlPolicy } from './url-guard.ts';

export { emitEvent } from './emit.ts';

/** Events to the host app: the delivery worker and the routes, for the composition root. */
export interface Events {
  delivery: EventDelivery;
  /** Mounts /event-subscriptions… and /event-deliveries… (inside /v1). */
  routes(app: FastifyInstance): Promise<void>;
}

export async function startEvents(
  boss: PgBoss,
  deps: { db: Db; sealer: Sealer; logger: Logger; registry: Registry; now: () => Date },
  settings: { production: boolean; allowPrivateEventUrls: boolean },
  overrides: Partial<EventDeliveryOptions> = {},
): Promise<Events> {
  const policy: UrlPolicy = { publicOnly: settings.production && !settings.allowPrivateEventUrls };
  // An override given as undefined (an unset test option) keeps the default.
  const given = Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined));
  const options: EventDeliveryOptions = { ...DEFAULT_DELIVERY_OPTIONS, policy, ...given };
  const metrics = makeEventMetrics(deps.registry, deps.db);
  const delivery = await startEventDelivery(boss, { ...deps, metrics }, options);
  return {
    delivery,
    async routes(app) {
      const routeDeps = { db: deps.db, sealer: deps.sealer, policy: options.policy, now: deps.now };
      await app.register(subscriptionRoutes, routeDeps);
      await app.register(deliveryRoutes, { db: deps.db, delivery, now: deps.now });
    },
  };
}
