import { and, asc, desc, type InferSelectModel, type SQL, sql } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import { AppError } from '../errors.ts';
import type { Db } from './client.ts';

/**
 * Keyset pagination, written once for every list. A list orders by a sort key and a unique column
 * that breaks ties (or by a unique column alone); a page asks for the rows after the last one seen.
 * Rows inserted while a client pages land before its first page or in a page not yet read, and never
 * shift the later ones: every row that existed when paging began comes back exactly once.
 *
 * The cursor is opaque to clients: base64url of the JSON `[list, ...key values]`. The list's name in
 * it makes one list refuse another's cursor; each value is checked against its column's kind before it
 * reaches SQL. Anything not handed out by that list is `400 invalid_cursor`, never a database error.
 * The values are read as text by the database itself, so a timestamp keeps its microseconds (a
 * JavaScript Date would drop them and skip or repeat rows) and a bigint its every digit.
 */

export type KeyKind = 'text' | 'bigint' | 'timestamp';

export interface KeyColumn {
  column: PgColumn;
  kind: KeyKind;
}

export interface Keyset {
  /** Names the list inside its cursors. */
  list: string;
  direction: 'asc' | 'desc';
  /** The sort key first, the unique column last. */
  keys: readonly KeyColumn[];
}

export interface PageRequest {
  limit: number;
  cursor?: string | undefined;
}

/** What a list's query needs; it selects `key` beside its row. */
export interface PageQuery {
  key: SQL<string>;
  /** Rows after the cursor; undefined on the first page. */
  after: SQL | undefined;
  orderBy: SQL[];
  /** One more than the page, to tell whether another page follows. */
  limit: number;
}

export interface Page<R> {
  rows: R[];
  nextCursor: string | null;
}

const MAX_CURSOR_LENGTH = 1024;
const MAX_TEXT_KEY_LENGTH = 500;
const BIGINT_MAX = 2n ** 63n - 1n;
const TIMESTAMP_TEXT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** One page of a list: `run` builds the list's own query (table, filters) from the page's parts. */
export async function keysetPage<R>(
  keyset: Keyset,
  request: PageRequest,
  run: (query: PageQuery) => Promise<{ row: R; key: string }[]>,
): Promise<Page<R>> {
  const values = request.cursor === undefined ? undefined : decodeCursor(keyset, request.cursor);
  const found = await run({
    key: sql<string>`json_build_array(${sql.join(keyset.keys.map(keyText), sql`, `)})::text`,
    after: values && afterCondition(keyset, values),
    orderBy: keyset.keys.map(({ column }) => (keyset.direction === 'desc' ? desc(column) : asc(column))),
    limit: request.limit + 1,
  });
  const page = found.slice(0, request.limit);
  const last = page.at(-1);
  return {
    rows: page.map((f) => f.row),
    nextCursor:
      found.length > request.limit && last ? encodeCursor(keyset, JSON.parse(last.key) as string[]) : null,
  };
}

/** The usual list: a page of one table's whole rows that match `filters`, in the keyset's order. */
export function tablePage<T extends PgTable>(
  db: Db,
  table: T,
  keyset: Keyset,
  request: PageRequest,
  filters: readonly (SQL | undefined)[] = [],
): Promise<Page<InferSelectModel<T>>> {
  return keysetPage(
    keyset,
    request,
    (page) =>
      db
        .select({ row: table, key: page.key })
        // A generic table defeats drizzle's check of `from`'s argument; the result type is restated.
        .from(table as PgTable)
        .where(and(...filters, page.after))
        .orderBy(...page.orderBy)
        .limit(page.limit) as unknown as Promise<{ row: InferSelectModel<T>; key: string }[]>,
  );
}

export function encodeCursor(keyset: Keyset, values: readonly string[]): string {
  return Buffer.from(JSON.stringify([keyset.list, ...values])).toString('base64url');
}

/** The key values a cursor carries, checked for this list; throws `invalid_cursor` otherwise. */
export function decodeCursor(keyset: Keyset, cursor: string): string[] {
  const values = parseCursor(cursor);
  if (
    !values ||
    values[0] !== keyset.list ||
    values.length !== keyset.keys.length + 1 ||
    !keyset.keys.every((key, i) => isValidKey(key.kind, values[i + 1]))
  ) {
    throw new AppError(
      'invalid_cursor',
      'cursor is not one this list handed out; pass nextCursor exactly as returned.',
    );
  }
  return values.slice(1) as string[];
}

function parseCursor(cursor: string): unknown[] | undefined {
  if (cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString());
    return Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function isValidKey(kind: KeyKind, value: unknown): value is string {
  if (typeof value !== 'string') return false;
  switch (kind) {
    case 'text':
      // PostgreSQL text cannot hold NUL: such a value would be a database error, not a page.
      return value.length <= MAX_TEXT_KEY_LENGTH && !value.includes('\u0000');
    case 'bigint':
      return /^\d{1,19}$/.test(value) && BigInt(value) <= BIGINT_MAX;
    case 'timestamp':
      return TIMESTAMP_TEXT.test(value) && isCalendarInstant(value);
  }
}

/** Refuses 2020-02-30, 25:00 and year 0, which the pattern lets through and PostgreSQL rejects. */
function isCalendarInstant(text: string): boolean {
  const millis = `${text.slice(0, 23)}Z`;
  const date = new Date(millis);
  return !text.startsWith('0000') && !Number.isNaN(date.getTime()) && date.toISOString() === millis;
}

function keyText({ column, kind }: KeyColumn): SQL {
  switch (kind) {
    case 'text':
      return sql`${column}`;
    case 'bigint':
      return sql`${column}::text`;
    case 'timestamp':
      return sql`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
  }
}

function keyValue(kind: KeyKind, value: string): SQL {
  switch (kind) {
    case 'text':
      return sql`${value}::text`;
    case 'bigint':
      return sql`${value}::bigint`;
    case 'timestamp':
      return sql`${value}::timestamptz`;
  }
}

/** A row comparison, so the list's (sort key, id) index answers it. */
function afterCondition(keyset: Keyset, values: string[]): SQL {
  const columns = sql.join(
    keyset.keys.map(({ column }) => sql`${column}`),
    sql`, `,
  );
  const bounds = sql.join(
    keyset.keys.map((key, i) => keyValue(key.kind, values[i]!)),
    sql`, `,
  );
  return keyset.direction === 'desc' ? sql`(${columns}) < (${bounds})` : sql`(${columns}) > (${bounds})`;
}
