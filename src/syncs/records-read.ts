import { type Db, runStatement, statement } from '../db/client.ts';
import type { RecordAction } from './records-store.ts';

// Reading a model's records in change order, from a position on (see records-store.ts for why a
// reader that pages by position never misses a change).

export interface StoredRecord {
  id: string;
  data: Record<string, unknown>;
  firstSeenAt: Date;
  lastModifiedAt: Date;
  lastAction: RecordAction;
  deletedAt: Date | null;
  position: string;
}

interface Row {
  external_id: string;
  data: Record<string, unknown>;
  first_seen_at: Date;
  last_modified_at: Date;
  last_action: RecordAction;
  deleted_at: Date | null;
  change_position: string;
}

// Ordered by the column, qualified: a bare `change_position` would name the text alias above and
// order positions as strings ("818" after "1199").
const READ = statement(`select external_id, data, first_seen_at, last_modified_at, last_action, deleted_at,
    change_position::text as change_position
  from sync_records
  where connection_id = $1 and model = $2 and change_position > $3::bigint
    and ($4::timestamptz is null or last_modified_at > $4::timestamptz)
    and last_action = any($5::text[])
  order by sync_records.change_position
  limit $6`);

// Newest change first, below a position (none: from the newest), for browsing.
const READ_NEWEST =
  statement(`select external_id, data, first_seen_at, last_modified_at, last_action, deleted_at,
    change_position::text as change_position
  from sync_records
  where connection_id = $1 and model = $2 and ($3::bigint is null or change_position < $3::bigint)
    and ($4::timestamptz is null or last_modified_at > $4::timestamptz)
    and last_action = any($5::text[])
  order by sync_records.change_position desc
  limit $6`);

export async function readRecords(
  db: Db,
  query: {
    connectionId: string;
    model: string;
    /** Change order: records after this position. */
    afterPosition: string;
    /** Newest first instead: records below this position (null: from the newest). */
    newestBelow?: string | null;
    modifiedAfter?: Date;
    actions: readonly RecordAction[];
    limit: number;
  },
): Promise<StoredRecord[]> {
  const newest = query.newestBelow !== undefined;
  const rows = await runStatement<Row>(db, newest ? READ_NEWEST : READ, [
    query.connectionId,
    query.model,
    newest ? query.newestBelow : query.afterPosition,
    query.modifiedAfter?.toISOString() ?? null,
    query.actions,
    query.limit,
  ]);
  return rows.map((r) => ({
    id: r.external_id,
    data: r.data,
    firstSeenAt: new Date(r.first_seen_at),
    lastModifiedAt: new Date(r.last_modified_at),
    lastAction: r.last_action,
    deletedAt: r.deleted_at ? new Date(r.deleted_at) : null,
    position: r.change_position,
  }));
}
