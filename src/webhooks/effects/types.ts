import type { z } from 'zod';
import type { Db } from '../../db/client.ts';
import { AppError } from '../../errors.ts';
import type { OutboundEvent } from '../../events/emit.ts';
import type { WebhookSource } from '../verifiers/types.ts';

/** One verified inbox event, as the worker hands it over (payload = what the verifier accepted). */
export interface WebhookEffectInput {
  /** webhook_events.id */
  rowId: string;
  integrationKey: string;
  source: WebhookSource;
  /** The sender's dedupe key (evt_…, WH-…, `envelope|event|time`, Pub/Sub messageId). */
  eventId: string;
  type: string;
  payload: unknown;
}

/**
 * - `applied`: the domain state moved (or was first recorded).
 * - `stale`: the event is known but the state is already there or past it (a duplicate, or a
 *   delivery that arrived out of order): nothing was written.
 * - `ignored`: an event type tether has no effect for.
 */
export type EffectOutcome = 'applied' | 'stale' | 'ignored';

/** A job the worker enqueues in the same transaction that applied the effect. */
export interface FollowUp<Q extends string = string, D extends object = object> {
  queue: Q;
  data: D;
  /** With a queue of policy `stately`, at most one queued job per key: a burst collapses into one. */
  singletonKey?: string;
  startAfterSeconds?: number;
}

export interface EffectResult {
  effect: EffectOutcome;
  detail?: string;
  followUps?: FollowUp[];
  /**
   * Events to the host app about the change: the worker writes them to the outbox in the same
   * transaction, one statement for the whole batch (events/emit.ts).
   */
  events?: OutboundEvent[];
}

/** A source's effects: `tx` is the worker's transaction; every write goes through it. */
export type EffectHandler = (tx: Db, event: WebhookEffectInput) => Promise<EffectResult>;

/**
 * A known event type's payload must have the fields its effect reads. When it does not, throw
 * AppError `malformed_payload`:
 * the worker marks the event failed and retries it, then dead-letters it where an operator sees
 * it, rather than the state silently not moving.
 */
export function parsePayload<S extends z.ZodType>(schema: S, event: WebhookEffectInput): z.infer<S> {
  const parsed = schema.safeParse(event.payload);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues
    .map((issue) => (issue.path.length ? `"${issue.path.join('.')}" ${issue.message}` : issue.message))
    .join('; ');
  throw new AppError(
    'malformed_payload',
    `Malformed ${event.source} ${event.type} payload (event ${event.eventId}): ${issues}`,
  );
}

export const ignored = (event: WebhookEffectInput): EffectResult => ({
  effect: 'ignored',
  detail: `no effect for ${event.source} ${event.type}`,
});
