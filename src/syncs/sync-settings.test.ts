import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../../test/harness/database.ts';
import type { SyncDefinition } from './definition.ts';
import {
  addMinutes,
  claimDue,
  effectiveSettings,
  enroll,
  loadSchedules,
  saveSettings,
  scheduleAfterRun,
} from './sync-settings.ts';
import { insertConnection, makeSyncTestDatabase } from './testing.ts';

const sync = { name: 'items', defaultFrequencyMinutes: 60 } as SyncDefinition;
const at = new Date('2026-01-01T00:00:00Z');

describe('sync settings and schedule rows', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await makeSyncTestDatabase();
  });
  afterAll(() => t.dispose());

  it("reads each setting from the connection, else the integration, else the sync's default", () => {
    const integration = { syncs: { items: { frequency: '15m', enabled: false } } };
    expect(effectiveSettings(sync, {}, undefined)).toEqual({ enabled: true, frequencyMinutes: 60 });
    expect(effectiveSettings(sync, integration, undefined)).toEqual({ enabled: false, frequencyMinutes: 15 });
    expect(effectiveSettings(sync, integration, { enabled: true, frequencyMinutes: null })).toEqual({
      enabled: true,
      frequencyMinutes: 15,
    });
    expect(
      effectiveSettings(sync, { syncs: { other: { frequency: '1d' } } }, undefined).frequencyMinutes,
    ).toBe(60);
  });

  it('lets one of two schedulers take a due pair, and neither take it before it is due', async () => {
    const connectionId = await insertConnection(t, 'conn_claim');
    await enroll(t.database.db, connectionId, ['items'], at);
    const pair = { connectionId, syncName: 'items' };
    const next = addMinutes(at, 60);
    const taken = await Promise.all([
      claimDue(t.database.db, pair, at, next),
      claimDue(t.database.db, pair, at, next),
    ]);
    expect(taken.filter(Boolean)).toHaveLength(1);
    expect(await claimDue(t.database.db, pair, addMinutes(at, 59), addMinutes(at, 119))).toBe(false);
    expect(await claimDue(t.database.db, pair, addMinutes(at, 60), addMinutes(at, 120))).toBe(true);
  });

  it('brings the next run forward for a shorter frequency, keeps it for a longer one, and plans a new pair at once', async () => {
    const connectionId = await insertConnection(t, 'conn_settings');
    const pair = { connectionId, syncName: 'items' };
    const resolve = (own: { enabled: boolean | null; frequencyMinutes: number | null }) =>
      effectiveSettings(sync, {}, own);
    const fresh = await saveSettings(t.database.db, pair, { enabled: false }, resolve, at);
    expect(fresh).toMatchObject({ enabled: false, frequencyMinutes: null, nextRunAt: at });

    await scheduleAfterRun(t.database.db, pair, addMinutes(at, 60));
    const later = addMinutes(at, 5);
    const shorter = await saveSettings(t.database.db, pair, { frequencyMinutes: 15 }, resolve, later);
    expect(shorter.nextRunAt).toEqual(addMinutes(later, 15));
    const longer = await saveSettings(t.database.db, pair, { frequencyMinutes: 1440 }, resolve, later);
    expect(longer.nextRunAt).toEqual(addMinutes(later, 15));
    const back = await saveSettings(
      t.database.db,
      pair,
      { enabled: null, frequencyMinutes: null },
      resolve,
      later,
    );
    expect(back).toMatchObject({ enabled: null, frequencyMinutes: null });
    expect((await loadSchedules(t.database.db, connectionId)).get('items')?.enabled).toBeNull();
  });
});
