import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';
import { getRun, requestRun, type SyncRunRow } from '../../src/syncs/run-store.ts';
import { executeRunSlice } from '../../src/syncs/runner.ts';
import type { TestTether } from './tether.ts';

// Running syncs and reading their records back in the end-to-end sync tests.

export interface RecordItem {
  id: string;
  data: Record<string, unknown>;
  lastAction: string;
  deletedAt: string | null;
}

/** Asks for a run through the engine (pg-boss) and waits for its end. */
export async function runToEnd(t: TestTether, connectionId: string, syncName: string): Promise<SyncRunRow> {
  const run = await t.syncs.startRun({ connectionId, syncName, trigger: 'test' });
  return waitForRun(t, run.id);
}

export async function waitForRun(t: TestTether, id: string, timeoutMs = 120_000): Promise<SyncRunRow> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const run = await getRun(t.database.db, id);
    if (run && run.status !== 'running') return run;
    await sleep(100);
  }
  throw new Error(`run ${id} did not finish`);
}

/** Runs a sync in this process, outside pg-boss, as many times in parallel as asked. */
export async function runSlicesInParallel(
  t: TestTether,
  runs: { connectionId: string; syncName: string }[],
): Promise<SyncRunRow[]> {
  const deps = {
    db: t.database.db,
    tokens: t.tokens,
    sealer: t.sealer,
    runtime: { fetch: (url: string | URL, init?: RequestInit) => fetch(url, init), now: () => new Date() },
    logger: t.logger,
  };
  const ids = [];
  for (const r of runs) ids.push((await requestRun(t.database.db, { ...r, trigger: 'test' })).run.id);
  const stopping = new AbortController();
  await Promise.all(
    ids.map((id, i) =>
      executeRunSlice(deps, id, {
        owner: `parallel-${i}`,
        leaseMs: 120_000,
        sliceMs: 120_000,
        stopping: stopping.signal,
      }),
    ),
  );
  return Promise.all(ids.map(async (id) => (await getRun(t.database.db, id))!));
}

/** Every record of the model through the records API, from `cursor` on. */
export async function readAll(
  t: TestTether,
  connectionId: string,
  model: string,
  cursor?: string,
): Promise<{ items: RecordItem[]; cursor?: string }> {
  const items: RecordItem[] = [];
  for (;;) {
    const res = await t.app.inject({
      method: 'GET',
      url: `/v1/connections/${connectionId}/records/${model}?limit=1000${cursor ? `&cursor=${cursor}` : ''}`,
      headers: t.auth,
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    items.push(...body.items);
    cursor = body.nextCursor ?? cursor;
    if (!body.hasMore) return { items, cursor };
  }
}

/** The live records as id → pick(data). */
export async function liveRecords(
  t: TestTether,
  connectionId: string,
  model: string,
  pick: (data: Record<string, unknown>) => unknown,
): Promise<Record<string, unknown>> {
  const { items } = await readAll(t, connectionId, model);
  return Object.fromEntries(items.filter((i) => !i.deletedAt).map((i) => [i.id, pick(i.data)]));
}
