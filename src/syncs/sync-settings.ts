import { and, eq, lte } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { type SyncScheduleRow, syncSchedules } from '../db/schema.ts';
import type { SyncDefinition } from './definition.ts';
import { parseFrequency } from './frequency.ts';

/**
 * A (connection, sync)'s settings and its place in the schedule. Each setting is read from the
 * first that has it: the connection (PATCH /v1/connections/:id/syncs/:sync), the integration
 * (`syncs: {<name>: {frequency, enabled}}` in its body), the sync's definition (enabled, its
 * `defaultFrequencyMinutes`).
 *
 * `next_run_at` is when the schedule runs the pair next. A pair with no row yet (a new connection)
 * is due at once. Whoever starts a run moves `next_run_at` to now + frequency; the schedule does it
 * with a compare-and-set (claimDue), so of two schedulers looking at the same due pair one starts it.
 */

export interface SyncSettings {
  enabled: boolean;
  frequencyMinutes: number;
}

export interface SettingsPatch {
  /** null: inherit again. */
  enabled?: boolean | null;
  frequencyMinutes?: number | null;
}

type IntegrationSyncSettings = Record<string, { enabled?: boolean; frequency?: string }>;

/** The integration's own setting for one sync, as stored in its options by POST/PATCH /v1/integrations. */
function integrationSetting(options: Record<string, unknown>, syncName: string) {
  const all = (options.syncs ?? {}) as IntegrationSyncSettings;
  const own = all[syncName] ?? {};
  return {
    enabled: typeof own.enabled === 'boolean' ? own.enabled : undefined,
    frequencyMinutes: typeof own.frequency === 'string' ? parseFrequency(own.frequency) : undefined,
  };
}

export function effectiveSettings(
  sync: SyncDefinition,
  integrationOptions: Record<string, unknown>,
  row: Pick<SyncScheduleRow, 'enabled' | 'frequencyMinutes'> | undefined,
): SyncSettings {
  const fromIntegration = integrationSetting(integrationOptions, sync.name);
  return {
    enabled: row?.enabled ?? fromIntegration.enabled ?? true,
    frequencyMinutes:
      row?.frequencyMinutes ?? fromIntegration.frequencyMinutes ?? sync.defaultFrequencyMinutes,
  };
}

/** Whether the sync runs by itself (schedule, push) for this connection. */
export async function syncEnabled(
  db: Db,
  connectionId: string,
  sync: SyncDefinition,
  integrationOptions: Record<string, unknown>,
): Promise<boolean> {
  const [row] = await db
    .select({ enabled: syncSchedules.enabled, frequencyMinutes: syncSchedules.frequencyMinutes })
    .from(syncSchedules)
    .where(and(eq(syncSchedules.connectionId, connectionId), eq(syncSchedules.syncName, sync.name)));
  return effectiveSettings(sync, integrationOptions, row).enabled;
}

export function addMinutes(at: Date, minutes: number): Date {
  return new Date(at.getTime() + minutes * 60_000);
}

export async function loadSchedules(db: Db, connectionId: string): Promise<Map<string, SyncScheduleRow>> {
  const rows = await db.select().from(syncSchedules).where(eq(syncSchedules.connectionId, connectionId));
  return new Map(rows.map((row) => [row.syncName, row]));
}

/** Adds the pairs that have no row yet, due at `now`. */
export async function enroll(db: Db, connectionId: string, syncNames: string[], now: Date): Promise<void> {
  if (syncNames.length === 0) return;
  await db
    .insert(syncSchedules)
    .values(syncNames.map((syncName) => ({ connectionId, syncName, nextRunAt: now })))
    .onConflictDoNothing();
}

/** Takes a due pair for the caller, moving its next run to `nextRunAt`; false when it was not due. */
export async function claimDue(
  db: Db,
  pair: { connectionId: string; syncName: string },
  now: Date,
  nextRunAt: Date,
): Promise<boolean> {
  const taken = await db
    .update(syncSchedules)
    .set({ nextRunAt, updatedAt: new Date() })
    .where(
      and(
        eq(syncSchedules.connectionId, pair.connectionId),
        eq(syncSchedules.syncName, pair.syncName),
        lte(syncSchedules.nextRunAt, now),
      ),
    )
    .returning({ syncName: syncSchedules.syncName });
  return taken.length === 1;
}

/** A run was started by hand: the schedule counts its next one from now. */
export async function scheduleAfterRun(
  db: Db,
  pair: { connectionId: string; syncName: string },
  nextRunAt: Date,
): Promise<void> {
  await db
    .insert(syncSchedules)
    .values({ ...pair, nextRunAt })
    .onConflictDoUpdate({
      target: [syncSchedules.connectionId, syncSchedules.syncName],
      set: { nextRunAt, updatedAt: new Date() },
    });
}

/**
 * Writes the connection's own settings. A shorter frequency takes effect at once (the next run
 * comes no later than now + the new frequency); a longer one from the run already planned on.
 */
export async function saveSettings(
  tx: Db,
  pair: { connectionId: string; syncName: string },
  patch: SettingsPatch,
  resolve: (row: Pick<SyncScheduleRow, 'enabled' | 'frequencyMinutes'>) => SyncSettings,
  now: Date,
): Promise<SyncScheduleRow> {
  const [current] = await tx
    .select()
    .from(syncSchedules)
    .where(and(eq(syncSchedules.connectionId, pair.connectionId), eq(syncSchedules.syncName, pair.syncName)))
    .for('update');
  const own = {
    enabled: patch.enabled === undefined ? (current?.enabled ?? null) : patch.enabled,
    frequencyMinutes:
      patch.frequencyMinutes === undefined ? (current?.frequencyMinutes ?? null) : patch.frequencyMinutes,
  };
  const latest = addMinutes(now, resolve(own).frequencyMinutes);
  const nextRunAt = current && current.nextRunAt < latest ? current.nextRunAt : current ? latest : now;
  const [saved] = await tx
    .insert(syncSchedules)
    .values({ ...pair, ...own, nextRunAt })
    .onConflictDoUpdate({
      target: [syncSchedules.connectionId, syncSchedules.syncName],
      set: { ...own, nextRunAt, updatedAt: new Date() },
    })
    .returning();
  return saved!;
}
