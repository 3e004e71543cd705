import type { Queue } from 'pg-boss';

/** One job per delivery attempt; the group is the subscription (worker capacity per endpoint). */
export const DELIVER_QUEUE = 'events.deliver';

export interface DeliverJob {
  deliveryId: string;
  /** The attempt this job makes (1-based); a job for an attempt already made does nothing. */
  attempt: number;
}

/**
 * A job whose worker died is retried by pg-boss once it expires (the claim lapses first, so the
 * retry can take the attempt over); a handler that threw (the database blinked) is retried too.
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
