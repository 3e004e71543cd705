import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';
import { getRun, type SyncRunRow } from '../../src/syncs/run-store.ts';
import type { TestTether } from './tether.ts';

// For the syncs' end-to-end tests: run a sync to its end through the engine, and read the records
// back through the records API as a host app would.

export interface RecordItem {
  id: string;
  data: Record<string, unknown>;
  lastAction: string;
  deletedAt: string | null;
}

export async function waitForRun(t: TestTether, id: string): Promise<SyncRunRow> {
  for (let i = 0; i < 600; i++) {
    const run = await getRun(t.database.db, id);
    if (run && run.status !== 'running') return run;
    await sleep(100);
  }
  throw new Error(`run ${id} did not finish`);
}

export async function runToEnd(t: TestTether, connectionId: string, syncName: string): Promise<SyncRunRow> {
  const run = await t.syncs.startRun({ connectionId, syncName, trigger: 'test' });
  return waitForRun(t, run.id);
}

/** Every record of the model after `cursor` (all of them without one), and the cursor to carry on from. */
export async function readRecords(
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

/** The live records (tombstones left out), id → what `pick` takes of their data. */
export async function liveRecords(
  t: TestTether,
  connectionId: string,
  model: string,
  pick: (data: Record<string, unknown>) => unknown,
): Promise<Record<string, unknown>> {
  const { items } = await readRecords(t, connectionId, model);
  return Object.fromEntries(items.filter((i) => !i.deletedAt).map((i) => [i.id, pick(i.data)]));
}
