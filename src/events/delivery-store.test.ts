import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeTestDatabase, type TestDatabase, testPostgresUrl } from '../../test/harness/database.ts';
import { rowsOf } from '../db/client.ts';
import { migrate } from '../db/migrate.ts';
import { type ClaimInput, claimAttempts, recordSuccesses } from './delivery-store.ts';

// The batched claim and success statements: each row of a batch is decided on its own, and a
// batch's claims guard each attempt against every other claimer (another batch, another process).

const BREAKER = { threshold: 5, openMs: 30_000, maxOpenMs: 60_000 };

describe('batched delivery claims and successes', () => {
  let t: TestDatabase;
  let n = 0;
  const now = new Date();
  const until = new Date(now.getTime() + 60_000);

  beforeAll(async () => {
    t = await makeTestDatabase();
    await migrate(t.database);
  });
  afterAll(async () => t?.dispose());
  beforeEach(async () => {
    await t.database.db.execute(sql`delete from event_deliveries`);
  });

  const db = () => t.database.db;
  const claimOf = (deliveryId: string, attempt = 1): ClaimInput => ({
    deliveryId,
    attempt,
    token: `tok_${++n}`,
    until,
    now,
    probe: false,
  });

  async function deliveries(count: number, subscription = 'sub_a') {
    await db().execute(sql`
      insert into event_subscriptions (id, url, events, secrets_sealed)
      values (${subscription}, 'http://127.0.0.1:1/x', '["*"]'::jsonb, 'sealed')
      on conflict (id) do nothing`);
    const event = `evt_${++n}`;
    await db().execute(sql`
      insert into outbound_events (id, type, data, occurred_at)
      values (${event}, 'sync.completed', '{}'::jsonb, ${now.toISOString()}::timestamptz)`);
    const ids = Array.from({ length: count }, () => `evd_${++n}`);
    for (const id of ids)
      await db().execute(sql`
        insert into event_deliveries (id, event_id, subscription_id, event_type, status)
        values (${id}, ${event}, ${subscription}, 'sync.completed', 'pending')`);
    return ids;
  }

  it('claims the qualifying attempts of a batch and answers the others unclaimed, in order', async () => {
    const [a, b, c] = await deliveries(3);
    await db().execute(sql`update event_deliveries set status = 'succeeded' where id = ${b!}`);
    const answers = await claimAttempts(
      db(),
      [claimOf(a!), claimOf(b!), claimOf(c!, 2), claimOf(c!)],
      BREAKER,
    );
    expect(answers.map((x) => x?.id ?? null)).toEqual([a, null, null, c]);
    expect(answers[0]).toMatchObject({ subscription_id: 'sub_a', attempts: 1, type: 'sync.completed' });
  });

  it('claims an attempt once when a batch holds two jobs for it, and not again from a second batch', async () => {
    const [a, b] = await deliveries(2);
    const first = await claimAttempts(db(), [claimOf(a!), claimOf(a!), claimOf(b!)], BREAKER);
    expect(first.filter((x) => x?.id === a)).toHaveLength(1);
    expect(first[2]?.id).toBe(b);
    // Another worker (or process) with jobs for the same attempts gets none of them.
    const second = await claimAttempts(db(), [claimOf(a!), claimOf(b!)], BREAKER);
    expect(second).toEqual([null, null]);
    // Two batches racing on one connection pool each: every attempt is claimed exactly once.
    const ids = await deliveries(20);
    const [x, y] = await Promise.all([
      claimAttempts(
        db(),
        ids.map((id) => claimOf(id)),
        BREAKER,
      ),
      claimAttempts(
        db(),
        [...ids].reverse().map((id) => claimOf(id)),
        BREAKER,
      ),
    ]);
    const won = [...x!, ...y!].filter((answer) => answer !== null).map((answer) => answer.id);
    expect(won.sort()).toEqual([...ids].sort());
  });

  it('records the successes whose claims are held and leaves a lapsed-and-retaken one alone', async () => {
    const [a, b] = await deliveries(2);
    const claims = [claimOf(a!), claimOf(b!)];
    await claimAttempts(db(), claims, BREAKER);
    // b's claim was taken over by another worker (its own had lapsed).
    await db().execute(sql`update event_deliveries set claim_token = 'someone_else' where id = ${b!}`);
    const answer = { status: 204, latencyMs: 3, body: '', error: null };
    await recordSuccesses(
      db(),
      claims.map((claim) => ({ deliveryId: claim.deliveryId, token: claim.token, now, answer })),
    );
    const rows = rowsOf<{ id: string; status: string; claim_token: string | null }>(
      await db().execute(sql`select id, status, claim_token from event_deliveries order by id`),
    );
    expect(rows.find((r) => r.id === a)).toMatchObject({ status: 'succeeded', claim_token: null });
    expect(rows.find((r) => r.id === b)).toMatchObject({ status: 'pending', claim_token: 'someone_else' });
  });

  it.skipIf(!testPostgresUrl)(
    'records a success while an open transaction emits to the same subscription (no lock between them)',
    async () => {
      // Skipped on PGlite: it needs two connections at once, and PGlite has one.
      const [a, spare] = await deliveries(2);
      const [claim] = [claimOf(a!)];
      await claimAttempts(db(), [claim!], BREAKER);
      // A stale last success: the statement writes the subscription row.
      await db().execute(sql`update event_subscriptions set last_success_at = null where id = 'sub_a'`);
      const answer = { status: 204, latencyMs: 3, body: '', error: null };
      await t.database.withSession((session) =>
        session.transaction(async (query) => {
          // Emitting fans out: a delivery row's foreign key holds a key-share lock on the subscription.
          await query(`update event_deliveries set subscription_id = 'sub_a' where id = $1`, [spare]);
          await query(
            `insert into event_deliveries (id, event_id, subscription_id, event_type, status)
             select 'evd_open_tx', event_id, 'sub_a', event_type, 'pending' from event_deliveries where id = $1`,
            [spare],
          );
          const recorded = recordSuccesses(db(), [{ deliveryId: a!, token: claim!.token, now, answer }]);
          const outcome = await Promise.race([
            recorded.then(() => 'recorded'),
            new Promise((resolve) => setTimeout(() => resolve('blocked'), 2_000)),
          ]);
          expect(outcome).toBe('recorded');
        }),
      );
    },
  );
});
