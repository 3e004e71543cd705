import { randomUUID } from 'node:crypto';
import { recordAudit } from '../audit/audit-log.ts';
import type { Sealer } from '../crypto/seal.ts';
import type { Db } from '../db/client.ts';
import { jobsIn, type PgBoss } from '../jobs/boss.ts';
import type { Logger } from '../logger.ts';
import { makeCoalescer } from './coalesce.ts';
import {
  attemptsOf,
  DELIVER_QUEUE,
  type DeliverJob,
  type DeliveryQueueJob,
  deliverJobOptions,
} from './deliver-queue.ts';
import {
  type BreakerSettings,
  type ClaimedDelivery,
  type ClaimInput,
  claimAttempts,
  countFailure,
  disableSubscription,
  failForDisabled,
  noteDeferred,
  readGate,
  recordFailedAttempt,
  recordSuccesses,
  type SuccessInput,
  takeProbe,
} from './delivery-store.ts';
import { captureDeliveryJobInsert } from './emit.ts';
import { makeEndpointShare, type ShareSlot } from './endpoint-share.ts';
import type { EventMetrics } from './event-metrics.ts';
import { startRepairSweep } from './repair-sweep.ts';
import { nextDelayMs, SVIX_SCHEDULE_MS } from './retry-schedule.ts';
import { type AttemptAnswer, sendAttempt } from './send-attempt.ts';
import { signedHeaders } from './signature.ts';
import { openSecrets, type SubscriptionSecrets, signingSecrets } from './subscription-secrets.ts';
import type { UrlPolicy } from './url-guard.ts';

/**
 * The delivery worker runs the jobs of `events.deliver` (deliver-queue.ts): an event's first
 * attempts, or one attempt of one delivery. Each attempt is claimed (delivery-store.ts), sent, and
 * its answer recorded, concurrently with the job's other attempts; a failed attempt
 * queues the next one with `startAfter` in the same transaction as the failure, so a retry is
 * never lost between the two.
 *
 * Capacity: `concurrency` workers per process, each delivering a batch of jobs concurrently, and
 * at most `perSubscriptionConcurrency` attempts in flight to one subscription (endpoint-share.ts):
 * a job of a slow endpoint over that share is put back for later without an attempt, so the slow
 * endpoint holds at most its share of the workers for its timeout while the others keep
 * delivering. (pg-boss's group limits would count a batch's slots until the whole batch ends,
 * tying a fast endpoint's share to a slow batch-mate.) A dead endpoint is cut off by its circuit breaker:
 * after `breaker.threshold` failures in a row its jobs wait, without spending an attempt, until the
 * breaker lets one probe through.
 *
 * Database work per delivery is coalesced (coalesce.ts): the claims made while the previous claim
 * statement runs go in one statement, and so do the successes; each delivery still gets its own
 * answer (its claim, or none), so one that fails or loses its claim leaves its batch-mates alone.
 * Failures stay one transaction each (the failure, its retry job, the breaker), as above.
 */

export interface EventDeliveryOptions {
  /** The waits before attempts 1..n (Svix's by default). */
  schedule: readonly number[];
  timeoutMs: number;
  /** Workers per process, each taking up to `batchSize` jobs at a time. */
  concurrency: number;
  batchSize: number;
  /** Attempts in flight to one subscription, per process. */
  perSubscriptionConcurrency: number;
  breaker: BreakerSettings;
  /** A subscription failing this long without one success is disabled. */
  disableAfterMs: number;
  policy: UrlPolicy;
  pollingIntervalSeconds: number;
}

const CLAIM_MARGIN_MS = 30_000;

/** Claims (and successes) per statement, and such statements at a time, per process. */
const COALESCE_OPTIONS = { maxBatch: 256, maxInFlight: 2 };
const MAX_OPENED_SECRETS = 10_000;

/** An attempt in flight longer than this marks its endpoint as slow for the share (above). */
const SLOW_ATTEMPT_MS = 1_000;

export const DEFAULT_DELIVERY_OPTIONS: Omit<EventDeliveryOptions, 'policy'> = {
  schedule: SVIX_SCHEDULE_MS,
  timeoutMs: 15_000,
  concurrency: 8,
  batchSize: 32,
  perSubscriptionConcurrency: 4,
  breaker: { threshold: 5, openMs: 30_000, maxOpenMs: 10 * 60_000 },
  disableAfterMs: 5 * 24 * 3_600_000,
  pollingIntervalSeconds: 2,
};

export interface EventDeliveryDeps {
  db: Db;
  sealer: Sealer;
  logger: Logger;
  metrics: EventMetrics;
  now: () => Date;
}

export interface EventDelivery {
  /** Queues one more attempt of a delivery (retry and recover go through it), in `tx`. */
  queueAttempt(tx: Db, job: DeliverJob & { subscriptionId: string }, startAfter?: Date): Promise<void>;
  /** Runs one repair sweep now. */
  sweep(): Promise<number>;
}

export async function startEventDelivery(
  boss: PgBoss,
  deps: EventDeliveryDeps,
  options: EventDeliveryOptions,
): Promise<EventDelivery> {
  const { db, logger, metrics, now } = deps;
  await boss.createQueue(DELIVER_QUEUE, deliverJobOptions(options.timeoutMs));
  if (!(await captureDeliveryJobInsert(boss, DELIVER_QUEUE)))
    logger.warn('pg-boss job insert not capturable: new events wait for the repair sweep');

  async function queueAttempt(tx: Db, job: DeliverJob & { subscriptionId: string }, startAfter?: Date) {
    const data: DeliverJob = { deliveryId: job.deliveryId, attempt: job.attempt };
    await boss.send(DELIVER_QUEUE, data, {
      group: { id: job.subscriptionId },
      ...(startAfter ? { startAfter } : {}),
      db: jobsIn(tx),
    });
  }

  /** The moment `runtimeAt` (tether's clock) falls, as a real time for pg-boss. */
  const realTime = (runtimeAt: Date) =>
    new Date(Date.now() + Math.max(0, runtimeAt.getTime() - now().getTime()));

  const claim = makeCoalescer(
    (inputs: ClaimInput[]) => claimAttempts(db, inputs, options.breaker),
    COALESCE_OPTIONS,
  );
  const recordSuccess = makeCoalescer(async (inputs: SuccessInput[]) => {
    await recordSuccesses(db, inputs);
    return inputs.map(() => undefined);
  }, COALESCE_OPTIONS);

  // Opened secrets per subscription, kept while its sealed value is the one read with the claim
  // (a rotation or an update seals a new value, which is opened afresh).
  const opened = new Map<string, { sealed: string; secrets: SubscriptionSecrets }>();
  function secretsOf(delivery: ClaimedDelivery): SubscriptionSecrets {
    const known = opened.get(delivery.subscription_id);
    if (known?.sealed === delivery.secrets_sealed) return known.secrets;
    const secrets = openSecrets(deps.sealer, delivery.subscription_id, delivery.secrets_sealed);
    if (opened.size >= MAX_OPENED_SECRETS) opened.clear();
    opened.set(delivery.subscription_id, { sealed: delivery.secrets_sealed, secrets });
    return secrets;
  }

  const share = makeEndpointShare(options.perSubscriptionConcurrency, SLOW_ATTEMPT_MS);

  /** Runs `deliver` within the subscription's share of this process, or puts the job back. */
  async function deliverWithinShare(job: DeliverJob, subscriptionId: string | null | undefined) {
    if (!subscriptionId) return deliver(job);
    const slot = await share.acquire(subscriptionId);
    if (slot === 'busy') {
      // The endpoint is slow and its share is taken: back in about half a timeout.
      const wait = Math.min(options.timeoutMs / 2 + Math.random() * (options.timeoutMs / 2), 10_000);
      await db.transaction((tx) => queueAttempt(tx, { ...job, subscriptionId }, new Date(Date.now() + wait)));
      metrics.deliveries.inc({ outcome: 'deferred' });
      return;
    }
    try {
      await deliver(job, slot);
    } finally {
      slot.release();
    }
  }

  /** The slot is held from before the claim until the endpoint answers with a success (not while
   * recording it), or until a failure is recorded. */
  async function deliver(job: DeliverJob, slot?: ShareSlot): Promise<void> {
    const at = now();
    const input = {
      deliveryId: job.deliveryId,
      attempt: job.attempt,
      token: randomUUID(),
      // Past the attempt's timeout with room to record its answer on a loaded database: only a
      // worker that died lets it lapse (a lapsed claim is what allows the one duplicate).
      until: new Date(at.getTime() + options.timeoutMs + CLAIM_MARGIN_MS),
      now: at,
    };
    let claimed = await claim({ ...input, probe: false });
    if (!claimed) {
      const gate = await readGate(db, job.deliveryId);
      if (gate?.status !== 'pending' || gate.claim_token !== null) return;
      if (gate.attempts !== job.attempt - 1) return; // a duplicate job for an attempt already made
      if (!gate.enabled) {
        await failForDisabled(db, job.deliveryId, at);
        return;
      }
      const openUntil = gate.breaker_open_until ? new Date(gate.breaker_open_until) : null;
      const open = openUntil !== null && openUntil.getTime() > at.getTime();
      const probe =
        !open &&
        gate.consecutive_failures >= options.breaker.threshold &&
        (await takeProbe(db, gate.subscription_id, at, options.timeoutMs + 1_000, options.breaker.threshold));
      if (!probe) {
        // Breaker open, or another worker is probing: wait for it without spending an attempt.
        const until = new Date(
          Math.max(openUntil?.getTime() ?? 0, at.getTime() + 1_000) + Math.random() * 1_000,
        );
        await db.transaction(async (tx) => {
          await noteDeferred(tx, job.deliveryId, until);
          await queueAttempt(tx, { ...job, subscriptionId: gate.subscription_id }, realTime(until));
        });
        metrics.deliveries.inc({ outcome: 'deferred' });
        return;
      }
      claimed = await claim({ ...input, probe: true });
      if (!claimed) return;
    }
    slot?.sending();
    const answer = await attempt(claimed);
    const succeeded = answer.status !== null && answer.status >= 200 && answer.status < 300;
    // A success frees the endpoint's slot at once; a failure keeps it until the breaker has
    // counted it (deliverWithinShare releases it), or a dead endpoint would get more attempts out
    // than its share before its breaker opens.
    if (succeeded) slot?.release();
    metrics.attemptSeconds.observe(answer.latencyMs / 1000);
    const done = now();
    if (succeeded) {
      await recordSuccess({ deliveryId: claimed.id, token: input.token, now: done, answer });
      metrics.deliveries.inc({ outcome: 'succeeded' });
      return;
    }
    await recordFailure(claimed, input.token, answer, done);
  }

  async function attempt(delivery: ClaimedDelivery): Promise<AttemptAnswer> {
    const secrets = signingSecrets(secretsOf(delivery), now());
    const body = JSON.stringify({
      id: delivery.event_id,
      type: delivery.type,
      timestamp: new Date(delivery.occurred_at).toISOString(),
      data: delivery.data,
    });
    // webhook-timestamp is the wall clock: receivers check it against theirs.
    const headers = signedHeaders(secrets, delivery.event_id, Math.floor(Date.now() / 1000), body);
    return sendAttempt(delivery.url, headers, body, { timeoutMs: options.timeoutMs, policy: options.policy });
  }

  async function recordFailure(delivery: ClaimedDelivery, token: string, answer: AttemptAnswer, at: Date) {
    const gone = answer.status === 410;
    const delay = gone ? null : nextDelayMs(options.schedule, delivery.attempts);
    const nextAt = delay === null ? null : new Date(at.getTime() + delay);
    const error = answer.error ?? `HTTP ${answer.status}`;
    await db.transaction(async (tx) => {
      const held = await recordFailedAttempt(tx, {
        deliveryId: delivery.id,
        token,
        now: at,
        answer: { ...answer, error },
        nextAt,
      });
      if (!held) return;
      if (nextAt)
        await queueAttempt(
          tx,
          {
            deliveryId: delivery.id,
            attempt: delivery.attempts + 1,
            subscriptionId: delivery.subscription_id,
          },
          realTime(nextAt),
        );
      const streak = await countFailure(tx, delivery.subscription_id, at, options.breaker);
      const failingMs = streak ? at.getTime() - new Date(streak.failing_since).getTime() : 0;
      const reason = gone ? 'gone' : failingMs >= options.disableAfterMs ? 'failing_for_5_days' : null;
      if (reason && (await disableSubscription(tx, delivery.subscription_id, reason, at))) {
        await recordAudit(tx, {
          actor: 'tether',
          action: 'event_subscription.disabled',
          subjectType: 'event_subscription',
          subjectId: delivery.subscription_id,
          metadata: { reason, deliveryId: delivery.id, lastResponseStatus: answer.status },
        });
        logger.warn({ subscriptionId: delivery.subscription_id, reason }, 'event subscription disabled');
      }
    });
    metrics.deliveries.inc({ outcome: nextAt ? 'retrying' : 'failed' });
  }

  // `concurrency` workers, each delivering a batch of jobs concurrently and fetching again at once
  // while batches come back full; new jobs wake the workers of every process (pg-boss's NOTIFY).
  await boss.work<DeliveryQueueJob>(
    DELIVER_QUEUE,
    {
      pollingIntervalSeconds: options.pollingIntervalSeconds,
      // NOTIFY wakes workers for jobs due now; a retry due later is found by this poll, which must
      // not be pg-boss's 30 s backstop (a 5 s retry would wait half a minute).
      notifyPollingIntervalSeconds: options.pollingIntervalSeconds,
      localConcurrency: options.concurrency,
      batchSize: options.batchSize,
      burstWhenBatchFull: true,
      perJobResults: true,
    },
    async (jobs) =>
      Promise.all(
        jobs.map(async (job) => {
          const attempts = attemptsOf(job.data, job.groupId);
          const outcomes = await Promise.allSettled(
            attempts.map(({ job: attempt, subscriptionId }) => deliverWithinShare(attempt, subscriptionId)),
          );
          const failed = outcomes.flatMap((outcome, i) =>
            outcome.status === 'rejected' ? [{ error: outcome.reason, attempt: attempts[i]!.job }] : [],
          );
          if (failed.length === 0) return { id: job.id, status: 'completed' as const };
          // The database failed us mid-way: pg-boss retries the job; each claim guards its attempt,
          // so the attempts already made are not made again.
          for (const { error, attempt } of failed)
            logger.error({ err: error, deliveryId: attempt.deliveryId }, 'event delivery job failed');
          return { id: job.id, status: 'failed' as const };
        }),
      ),
  );

  const sweep = await startRepairSweep(boss, { db, logger, now }, { queueAttempt });
  return { queueAttempt, sweep };
}
