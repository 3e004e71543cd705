import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestDatabase, type TestDatabase } from '../../test/harness/database.ts';
import { migrate } from '../db/migrate.ts';
import type { WebhookRejectCode } from '../errors.ts';
import { makeRejectionAudit, type RejectionAudit } from './rejection-audit.ts';

describe('rejected webhook deliveries in the audit log', () => {
  let t: TestDatabase;
  const started: RejectionAudit[] = [];
  beforeAll(async () => {
    t = await makeTestDatabase();
    await migrate(t.database);
  });
  afterAll(async () => {
    for (const audit of started) await audit.stop();
    await t.dispose();
  });

  const logger = pino({ level: 'silent' });
  const fold = (clock: { now: number }) => {
    // A flush interval longer than any test: the tests flush themselves.
    const audit = makeRejectionAudit(
      { db: t.database.db, logger },
      { now: () => clock.now, flushIntervalMs: 3_600_000 },
    );
    started.push(audit);
    return audit;
  };
  const rowsFor = (integration: string) =>
    t.database.withSession((s) =>
      s.query<{ metadata: { source: string; reason: string; minute: string; count: number } }>(
        "select metadata from audit_log where action = 'webhook.rejected' and subject_id = $1 order by id",
        [integration],
      ),
    );
  const rejection = (integration: string, reason: WebhookRejectCode = 'bad_signature') => ({
    integration,
    source: 'stripe',
    reason,
  });

  it('writes the first rejection of a minute at once, and counts the rest into the same row', async () => {
    const clock = { now: Date.UTC(2026, 0, 1, 12, 0, 5) };
    const audit = fold(clock);
    await audit.record(rejection('fold-first'));
    expect((await rowsFor('fold-first')).map((r) => r.metadata)).toEqual([
      { source: 'stripe', reason: 'bad_signature', minute: '2026-01-01T12:00:00.000Z', count: 1 },
    ]);
    await Promise.all(Array.from({ length: 999 }, () => audit.record(rejection('fold-first'))));
    expect((await rowsFor('fold-first')).map((r) => r.metadata.count)).toEqual([1]);
    await audit.flush();
    expect((await rowsFor('fold-first')).map((r) => r.metadata.count)).toEqual([1000]);
  });

  it('keeps one row per integration, reason and minute', async () => {
    const clock = { now: Date.UTC(2026, 0, 1, 12, 0, 5) };
    const audit = fold(clock);
    for (let i = 0; i < 30; i += 1) await audit.record(rejection('fold-keys'));
    for (let i = 0; i < 4; i += 1) await audit.record(rejection('fold-keys', 'timestamp_out_of_range'));
    clock.now += 60_000;
    for (let i = 0; i < 7; i += 1) await audit.record(rejection('fold-keys'));
    await audit.flush();
    expect(
      (await rowsFor('fold-keys')).map((r) => [r.metadata.reason, r.metadata.minute, r.metadata.count]),
    ).toEqual([
      ['bad_signature', '2026-01-01T12:00:00.000Z', 30],
      ['timestamp_out_of_range', '2026-01-01T12:00:00.000Z', 4],
      ['bad_signature', '2026-01-01T12:01:00.000Z', 7],
    ]);
  });

  it('adds the counts of several processes to the same row', async () => {
    const clock = { now: Date.UTC(2026, 0, 1, 13, 0, 0) };
    const [one, two] = [fold(clock), fold(clock)];
    await Promise.all([
      ...Array.from({ length: 20 }, () => one!.record(rejection('fold-processes'))),
      ...Array.from({ length: 15 }, () => two!.record(rejection('fold-processes'))),
    ]);
    await Promise.all([one!.flush(), two!.flush()]);
    expect((await rowsFor('fold-processes')).map((r) => r.metadata.count)).toEqual([35]);
  });

  it('keeps a count it could not write, and writes it at the next flush', async () => {
    const clock = { now: Date.UTC(2026, 0, 1, 14, 0, 0) };
    const audit = fold(clock);
    await audit.record(rejection('fold-retry'));
    await audit.record(rejection('fold-retry'));
    await t.database.withSession((s) => s.query('alter table audit_log rename to audit_log_away'));
    try {
      await audit.flush();
    } finally {
      await t.database.withSession((s) => s.query('alter table audit_log_away rename to audit_log'));
    }
    await audit.flush();
    expect((await rowsFor('fold-retry')).map((r) => r.metadata.count)).toEqual([2]);
  });
});
