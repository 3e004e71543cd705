import { sql } from 'drizzle-orm';
import { type Db, rowsOf, runStatement, statement } from '../db/client.ts';

/**
 * A delivery's state machine (event_deliveries.status, with its claim):
 *
 *   pending, unclaimed ──claim(attempt n)──▶ pending, claimed (attempts = n, token, claimed_until;
 *                                            next_attempt_at kept, so the claim is a HOT update)
 *   pending, claimed   ──2xx──────────────▶ succeeded
 *   pending, claimed   ──failure, n < 8───▶ pending, unclaimed (next_attempt_at, job for n + 1 queued)
 *   pending, claimed   ──failure, n = 8───▶ failed
 *   pending, claimed   ──claim lapses─────▶ attempt n may be claimed again (its worker died
 *                                            mid-attempt: the one duplicate the guarantee allows)
 *   pending            ──subscription disabled──▶ failed
 *   succeeded | failed ──retry / recover──▶ pending, unclaimed (job for attempts + 1 queued)
 *
 * A job names the attempt it is for, and claims it only from the state that attempt follows, so a
 * duplicate job (a manual retry beside a scheduled one, a repair sweep) sends nothing twice. Every
 * finishing write is guarded by the claim token: a worker whose claim lapsed changes nothing.
 */

export interface ClaimedDelivery {
  id: string;
  subscription_id: string;
  attempts: number;
  url: string;
  secrets_sealed: string;
  event_id: string;
  type: string;
  data: Record<string, unknown>;
  occurred_at: Date | string;
}

export interface BreakerSettings {
  threshold: number;
  openMs: number;
  maxOpenMs: number;
}

export interface ClaimInput {
  deliveryId: string;
  attempt: number;
  token: string;
  until: Date;
  now: Date;
  /** The caller holds the breaker's probe (half-open), so an open breaker does not stop it. */
  probe: boolean;
}

// Many attempts claimed in one statement, each on its own terms: a row of the batch that does not
// qualify is simply not updated. Two rows of one batch for the same attempt (a duplicate job)
// update it once, with one of their tokens: the answer is matched on the token, so the other
// comes back unclaimed.
const CLAIM = statement(`
  update event_deliveries d
  set attempts = j.attempt, claim_token = j.token, claimed_until = j.until, last_attempt_at = j.now,
    updated_at = j.now
  from unnest($1::text[], $2::int[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::boolean[])
      as j(id, attempt, token, until, now, probe),
    event_subscriptions s, outbound_events e
  where d.id = j.id and s.id = d.subscription_id and e.id = d.event_id
    and d.status = 'pending' and s.enabled
    and (j.probe or (s.consecutive_failures < $7 and (s.breaker_open_until is null or s.breaker_open_until <= j.now)))
    and ((d.attempts = j.attempt - 1 and d.claim_token is null)
      or (d.attempts = j.attempt and d.claim_token is not null and d.claimed_until < j.now))
  returning d.claim_token as token, d.id, d.subscription_id, d.attempts, s.url, s.secrets_sealed,
    e.id as event_id, e.type, e.data, e.occurred_at`);

/** Claims each input's attempt; the answers in the inputs' order, null where the claim was not made. */
export async function claimAttempts(
  db: Db,
  inputs: readonly ClaimInput[],
  breaker: BreakerSettings,
): Promise<(ClaimedDelivery | null)[]> {
  if (inputs.length === 0) return [];
  const rows = await runStatement<ClaimedDelivery & { token: string }>(db, CLAIM, [
    inputs.map((input) => input.deliveryId),
    inputs.map((input) => input.attempt),
    inputs.map((input) => input.token),
    inputs.map((input) => input.until.toISOString()),
    inputs.map((input) => input.now.toISOString()),
    inputs.map((input) => input.probe),
    breaker.threshold,
  ]);
  const byToken = new Map(rows.map(({ token, ...row }) => [token, row] as const));
  return inputs.map((input) => byToken.get(input.token) ?? null);
}

export interface DeliveryGate {
  status: string;
  attempts: number;
  claim_token: string | null;
  subscription_id: string;
  enabled: boolean;
  consecutive_failures: number;
  breaker_open_until: Date | string | null;
}

/** Why a claim did not happen: the delivery and its subscription as they are now. */
export async function readGate(db: Db, deliveryId: string): Promise<DeliveryGate | null> {
  const result = await db.execute(sql`
    select d.status, d.attempts, d.claim_token, d.subscription_id, s.enabled, s.consecutive_failures,
      s.breaker_open_until
    from event_deliveries d join event_subscriptions s on s.id = d.subscription_id
    where d.id = ${deliveryId}`);
  return rowsOf<DeliveryGate>(result)[0] ?? null;
}

/**
 * Half-open: one worker (in any process) takes the probe by pushing the breaker's reopening time
 * past its own attempt; everyone else keeps waiting.
 */
export async function takeProbe(
  db: Db,
  subscriptionId: string,
  now: Date,
  holdMs: number,
  threshold: number,
) {
  const result = await db.execute(sql`
    update event_subscriptions set breaker_open_until = ${new Date(now.getTime() + holdMs).toISOString()}::timestamptz
    where id = ${subscriptionId} and consecutive_failures >= ${threshold}
      and (breaker_open_until is null or breaker_open_until <= ${now.toISOString()}::timestamptz)
    returning id`);
  return rowsOf(result).length === 1;
}

/** A pending delivery of a disabled subscription ends failed (recover sends it once re-enabled). */
export async function failForDisabled(db: Db, deliveryId: string, now: Date): Promise<void> {
  await db.execute(sql`
    update event_deliveries set status = 'failed', next_attempt_at = null,
      last_error = 'the subscription is disabled', updated_at = ${now.toISOString()}::timestamptz
    where id = ${deliveryId} and status = 'pending' and claim_token is null`);
}

export async function noteDeferred(db: Db, deliveryId: string, until: Date): Promise<void> {
  await db.execute(sql`
    update event_deliveries set next_attempt_at = ${until.toISOString()}::timestamptz
    where id = ${deliveryId} and status = 'pending' and claim_token is null`);
}

export interface AttemptRecord {
  status: number | null;
  latencyMs: number;
  body: string;
  error: string | null;
}

export interface SuccessInput {
  deliveryId: string;
  token: string;
  now: Date;
  answer: AttemptRecord;
}

// Successes, many in one statement: each delivery ends if its claim is still held, and each
// subscription's failure streak (and breaker) is cleared. A subscription row is written only when
// that changes something (or last_success_at is 10 s old), so the deliveries of one busy endpoint
// do not queue on its row lock; the rows to write are locked in id order first, so two of these
// statements never wait on each other's subscriptions crosswise (a deadlock). The lock is the one
// an UPDATE of non-key columns takes (no key update): FOR UPDATE would also block the key-share
// locks that emitting an event takes on each subscription it fans out to (the deliveries' foreign
// key), and deadlock with the emitting transactions.
const SUCCEEDED = statement(`
  with done as (
    update event_deliveries d
    set status = 'succeeded', claim_token = null, claimed_until = null, next_attempt_at = null,
      last_response_status = j.status, last_latency_ms = j.latency, last_response_body = j.body,
      last_error = null, updated_at = j.now
    from unnest($1::text[], $2::text[], $3::int[], $4::int[], $5::text[], $6::timestamptz[])
      as j(id, token, status, latency, body, now)
    where d.id = j.id and d.claim_token = j.token
    returning d.subscription_id, j.now
  ),
  latest as (select subscription_id, max(now) as at from done group by subscription_id),
  stale as (
    select s.id, latest.at from event_subscriptions s join latest on latest.subscription_id = s.id
    where s.consecutive_failures <> 0 or s.failing_since is not null or s.breaker_open_until is not null
      or s.last_success_at is null or s.last_success_at < latest.at - interval '10 seconds'
    order by s.id
    for no key update of s
  )
  update event_subscriptions s
  set consecutive_failures = 0, failing_since = null, breaker_open_until = null,
    last_success_at = stale.at, updated_at = stale.at
  from stale
  where s.id = stale.id`);

/** Records each success whose claim the caller still holds (a lapsed one changes nothing). */
export async function recordSuccesses(db: Db, inputs: readonly SuccessInput[]): Promise<void> {
  if (inputs.length === 0) return;
  await runStatement(db, SUCCEEDED, [
    inputs.map((input) => input.deliveryId),
    inputs.map((input) => input.token),
    inputs.map((input) => input.answer.status),
    inputs.map((input) => input.answer.latencyMs),
    inputs.map((input) => input.answer.body),
    inputs.map((input) => input.now.toISOString()),
  ]);
}

/** The failed attempt, in `tx`: pending again with its next time, or failed after the last. */
export async function recordFailedAttempt(
  tx: Db,
  input: { deliveryId: string; token: string; now: Date; answer: AttemptRecord; nextAt: Date | null },
): Promise<boolean> {
  const { answer, nextAt } = input;
  const result = await tx.execute(sql`
    update event_deliveries
    set status = ${nextAt ? 'pending' : 'failed'}, claim_token = null, claimed_until = null,
      next_attempt_at = ${nextAt?.toISOString() ?? null}::timestamptz,
      last_response_status = ${answer.status}, last_latency_ms = ${answer.latencyMs},
      last_response_body = ${answer.body}, last_error = ${answer.error},
      updated_at = ${input.now.toISOString()}::timestamptz
    where id = ${input.deliveryId} and claim_token = ${input.token}
    returning id`);
  return rowsOf(result).length === 1;
}

/** One more failure in the subscription's streak; opens (or reopens, longer) the breaker at the threshold. */
export async function countFailure(
  tx: Db,
  subscriptionId: string,
  now: Date,
  breaker: BreakerSettings,
): Promise<{ failing_since: Date | string; consecutive_failures: number } | null> {
  const at = now.toISOString();
  const result = await tx.execute(sql`
    update event_subscriptions
    set consecutive_failures = consecutive_failures + 1,
      failing_since = coalesce(failing_since, ${at}::timestamptz),
      breaker_open_until = case when consecutive_failures + 1 >= ${breaker.threshold}
        then ${at}::timestamptz + least(${breaker.openMs}::float8 * power(2, consecutive_failures + 1 - ${breaker.threshold}), ${breaker.maxOpenMs}::float8) * interval '1 millisecond'
        else breaker_open_until end,
      updated_at = ${at}::timestamptz
    where id = ${subscriptionId}
    returning failing_since, consecutive_failures`);
  return rowsOf<{ failing_since: Date | string; consecutive_failures: number }>(result)[0] ?? null;
}

/** Disables an enabled subscription; false when it already was. */
export async function disableSubscription(tx: Db, subscriptionId: string, reason: string, now: Date) {
  const result = await tx.execute(sql`
    update event_subscriptions set enabled = false, disabled_reason = ${reason}, breaker_open_until = null,
      updated_at = ${now.toISOString()}::timestamptz
    where id = ${subscriptionId} and enabled
    returning id`);
  return rowsOf(result).length === 1;
}
