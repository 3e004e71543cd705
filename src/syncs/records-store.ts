import { type Db, runStatement, statement } from '../db/client.ts';
import { contentHash } from './content-hash.ts';

/**
 * The records store: one row per (connection, model, external id), written a page at a time.
 *
 * Each page is written inside the caller's transaction (the runner commits it with the checkpoint)
 * in at most three statements: the records not stored yet are inserted in one (the primary key
 * tells them apart, so a first pass is one statement a page, whatever the table's statistics);
 * the rest are read, compared and upserted in one. Per record: new → `added`; same content hash
 * → unchanged (no write); an older
 * provider version than the stored one → skipped (a page fetched before a newer change never
 * regresses the record); otherwise `updated`. A delete of a live record leaves a tombstone
 * (`deleted`, data kept); a delete of an unknown or already deleted record changes nothing.
 *
 * Change positions, the order the records API reads in: every write takes the next value of one
 * sequence, under a transaction-scoped advisory lock on (connection, model) taken before the first
 * position and held until commit. So for one (connection, model) a transaction that took smaller
 * positions has committed before another can take larger ones: a reader that has seen position p
 * never later sees a new row below p (the gap a plain sequence leaves when an earlier transaction
 * commits after a later one).
 */

export type RecordAction = 'added' | 'updated' | 'deleted';

/** One record as a sync hands it over: its data, or its deletion. */
export type RecordChange =
  | {
      id: string;
      data: Record<string, unknown>;
      /** The provider's own version (history id, modified time in ms) as a decimal string or number. */
      version?: string | number | null;
      deleted?: undefined;
    }
  | { id: string; deleted: true; version?: string | number | null };

export interface WriteCounts {
  imported: number;
  updated: number;
  unchanged: number;
  deleted: number;
  skipped: number;
}

export const zeroCounts = (): WriteCounts => ({
  imported: 0,
  updated: 0,
  unchanged: 0,
  deleted: 0,
  skipped: 0,
});

interface Existing {
  external_id: string;
  content_hash: string;
  provider_version: string | null;
  deleted_at: Date | null;
  seen_pass: string | null;
}

interface Row {
  external_id: string;
  data: Record<string, unknown> | null;
  content_hash: string | null;
  provider_version: string | null;
  last_action: RecordAction;
}

const LOCK = statement('select pg_advisory_xact_lock(hashtextextended($1, 0))');
// New records: inserted where the primary key has no row, which that key alone decides (no plan
// to go wrong), answering the ids inserted. The rest already exist and take the path below.
const INSERT_NEW = statement(`insert into sync_records (connection_id, model, external_id, data, content_hash,
    provider_version, last_action, change_position, seen_pass)
  select $1, $2, x.external_id, x.data, x.content_hash, x.provider_version, 'added',
    nextval('sync_record_positions'), $4
  from jsonb_to_recordset($3::jsonb) as x(external_id text, data jsonb, content_hash text, provider_version numeric)
  on conflict (connection_id, model, external_id) do nothing
  returning external_id`);
const EXISTING = statement(`select external_id, content_hash, provider_version::text as provider_version,
    deleted_at, seen_pass
  from sync_records where connection_id = $1 and model = $2 and external_id = any($3::text[])`);
const WRITE = statement(`insert into sync_records as r (connection_id, model, external_id, data, content_hash,
    provider_version, last_action, deleted_at, change_position, seen_pass)
  select $1, $2, x.external_id, coalesce(x.data, '{}'::jsonb), coalesce(x.content_hash, ''), x.provider_version,
    x.last_action, case when x.last_action = 'deleted' then now() end, nextval('sync_record_positions'), $4
  from jsonb_to_recordset($3::jsonb) as x(external_id text, data jsonb, content_hash text,
    provider_version numeric, last_action text)
  on conflict (connection_id, model, external_id) do update set
    data = case when excluded.last_action = 'deleted' then r.data else excluded.data end,
    content_hash = case when excluded.last_action = 'deleted' then r.content_hash else excluded.content_hash end,
    provider_version = coalesce(excluded.provider_version, r.provider_version),
    last_action = excluded.last_action,
    deleted_at = excluded.deleted_at,
    change_position = excluded.change_position,
    last_modified_at = now(),
    seen_pass = coalesce(excluded.seen_pass, r.seen_pass)`);
const MARK = statement(`update sync_records set seen_pass = $3
  where connection_id = $1 and model = $2 and external_id = any($4::text[]) and seen_pass is distinct from $3`);

const toBig = (v: string | number | null | undefined): bigint | null =>
  v === null || v === undefined ? null : BigInt(typeof v === 'number' ? Math.trunc(v) : v);

/**
 * Writes one page of a model's records in `tx` (which must be a transaction). With `seenPass`,
 * every record of the page, written or not, is marked as seen by that full pass (full-pass.ts).
 */
export async function writeRecords(
  tx: Db,
  target: { connectionId: string; model: string },
  changes: readonly RecordChange[],
  options: { seenPass?: string } = {},
): Promise<WriteCounts> {
  const counts = zeroCounts();
  const latest = latestById(changes);
  if (latest.size === 0) return counts;
  const seenPass = options.seenPass ?? null;
  await runStatement(tx, LOCK, [`${target.connectionId}/${target.model}`]);
  const hashes = new Map<string, string>();
  const records: Row[] = [];
  for (const change of latest.values()) {
    if (change.deleted) continue;
    const hash = contentHash(change.data);
    hashes.set(change.id, hash);
    records.push({
      external_id: change.id,
      data: change.data,
      content_hash: hash,
      provider_version: toBig(change.version)?.toString() ?? null,
      last_action: 'added',
    });
  }
  if (records.length > 0) {
    const inserted = await runStatement<{ external_id: string }>(tx, INSERT_NEW, [
      target.connectionId,
      target.model,
      JSON.stringify(records),
      seenPass,
    ]);
    counts.imported += inserted.length;
    for (const { external_id } of inserted) latest.delete(external_id);
    // A first pass (every record new) ends here: one statement for the page.
    if (latest.size === 0) return counts;
  }

  const existing = new Map(
    (await runStatement<Existing>(tx, EXISTING, [target.connectionId, target.model, [...latest.keys()]])).map(
      (e) => [e.external_id, e],
    ),
  );
  const rows: Row[] = [];
  const unwritten: string[] = [];
  for (const change of latest.values()) {
    const before = existing.get(change.id);
    const version = toBig(change.version);
    const provider_version = version?.toString() ?? null;
    if (before && isOlder(version, before.provider_version)) {
      counts.skipped++;
      unwritten.push(change.id);
      continue;
    }
    if (change.deleted) {
      if (!before || before.deleted_at !== null) {
        counts.unchanged++;
        if (before) unwritten.push(change.id);
      } else {
        rows.push({
          external_id: change.id,
          data: null,
          content_hash: null,
          provider_version,
          last_action: 'deleted',
        });
        counts.deleted++;
      }
      continue;
    }
    const hash = hashes.get(change.id)!;
    const row = (last_action: RecordAction): Row => ({
      external_id: change.id,
      data: change.data,
      content_hash: hash,
      provider_version,
      last_action,
    });
    if (!before || before.deleted_at !== null) {
      // A tombstone come back to life.
      rows.push(row('added'));
      counts.imported++;
    } else if (before.content_hash === hash) {
      counts.unchanged++;
      unwritten.push(change.id);
    } else {
      rows.push(row('updated'));
      counts.updated++;
    }
  }
  if (rows.length > 0)
    await runStatement(tx, WRITE, [target.connectionId, target.model, JSON.stringify(rows), seenPass]);
  const toMark = unwritten.filter((id) => existing.get(id)?.seen_pass !== seenPass);
  if (seenPass !== null && toMark.length > 0)
    await runStatement(tx, MARK, [target.connectionId, target.model, seenPass, toMark]);
  return counts;
}

function isOlder(incoming: bigint | null, stored: string | null): boolean {
  return incoming !== null && stored !== null && incoming < BigInt(stored);
}

/** Within one page the same id may come twice (added, then changed): keep its newest version. */
function latestById(items: readonly RecordChange[]): Map<string, RecordChange> {
  const out = new Map<string, RecordChange>();
  for (const item of items) {
    const seen = out.get(item.id);
    const older = seen && isOlder(toBig(item.version), toBig(seen.version)?.toString() ?? null);
    if (!older) out.set(item.id, item);
  }
  return out;
}
