import type { Queue } from 'pg-boss';

/**
 * The delivery queue. Two kinds of job, both naming the attempts they make:
 *   - a first-attempts job, queued with its event (emit.ts): attempt 1 of each of the event's
 *     deliveries, at most FIRST_ATTEMPTS_PER_JOB of them, so fanning an event out to ten
 *     subscriptions costs one job, not ten;
 *   - an attempt job: one attempt of one delivery (retries, deferrals, manual retry and recover,
 *     the repair sweep), grouped by its subscription.
 */
export const DELIVER_QUEUE = 'events.deliver';
export const FIRST_ATTEMPTS_PER_JOB = 32;

export interface DeliverJob {
  deliveryId: string;
  /** The attempt this job makes (1-based); a job for an attempt already made does nothing. */
  attempt: number;
}

export interface FirstAttemptsJob {
  deliveries: { deliveryId: string; subscriptionId: string }[];
}

export type DeliveryQueueJob = DeliverJob | FirstAttemptsJob;

/** The attempts a job of either kind makes, each with its subscription when the job names it. */
export function attemptsOf(
  data: DeliveryQueueJob,
  groupId: string | null | undefined,
): { job: DeliverJob; subscriptionId: string | null | undefined }[] {
  if ('deliveries' in data)
    return data.deliveries.map(({ deliveryId, subscriptionId }) => ({
      job: { deliveryId, attempt: 1 },
      subscriptionId,
    }));
  return [{ job: { deliveryId: data.deliveryId, attempt: data.attempt }, subscriptionId: groupId }];
}

/**
 * A job whose worker died is retried by pg-boss once it expires (the claim lapses first, so the
 * retry can take the attempt over); a handler that threw (the database blinked) is retried too,
 * and its attempts already made are skipped (each claims only the attempt it names).
 */
export function deliverJobOptions(timeoutMs: number): Omit<Queue, 'name'> {
  return {
    // A job inserted wakes the workers of every process at commit (LISTEN/NOTIFY on PostgreSQL).
    notify: true,
    expireInSeconds: Math.ceil(timeoutMs / 1000) + 60,
    retryLimit: 10,
    retryDelay: 5,
    retryBackoff: true,
  };
}
