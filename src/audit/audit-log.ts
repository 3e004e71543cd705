import { and, desc, eq, lt, type SQL } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { auditLog } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import { redactSecrets } from '../redact.ts';

/**
 * The audit log: every state change in tether is written through record(),
 * so there is one shape and one place that keeps secrets out of metadata.
 * Actions are dotted (`connection.refreshed`, `webhook.rejected`).
 */
export interface AuditEntryInput {
  actor: string;
  action: string;
  subjectType?: string;
  subjectId?: string;
  metadata?: Record<string, unknown>;
}

export interface AuditEntry {
  id: string;
  occurredAt: string;
  actor: string;
  action: string;
  subjectType: string | null;
  subjectId: string | null;
  metadata: Record<string, unknown>;
}

export interface AuditQuery {
  action?: string;
  subjectType?: string;
  subjectId?: string;
  /** Return entries older than this cursor (the `nextCursor` of the previous page). */
  cursor?: string;
  limit: number;
}

export interface AuditPage {
  items: AuditEntry[];
  nextCursor: string | null;
}

/** `db` may be a transaction, so the entry commits with the change it records. */
export async function recordAudit(db: Db, entry: AuditEntryInput): Promise<void> {
  await db.insert(auditLog).values({
    actor: entry.actor,
    action: entry.action,
    subjectType: entry.subjectType ?? null,
    subjectId: entry.subjectId ?? null,
    metadata: redactSecrets(entry.metadata ?? {}) as Record<string, unknown>,
  });
}

/**
 * Newest first, keyset-paginated on the id: a cursor names the last id seen,
 * so rows inserted while a client pages appear before its first page and
 * never shift the later ones (no duplicates, no gaps).
 */
export async function listAudit(db: Db, query: AuditQuery): Promise<AuditPage> {
  const conditions: SQL[] = [];
  if (query.action) conditions.push(eq(auditLog.action, query.action));
  if (query.subjectType) conditions.push(eq(auditLog.subjectType, query.subjectType));
  if (query.subjectId) conditions.push(eq(auditLog.subjectId, query.subjectId));
  if (query.cursor) conditions.push(lt(auditLog.id, decodeCursor(query.cursor)));
  const rows = await db
    .select()
    .from(auditLog)
    .where(and(...conditions))
    .orderBy(desc(auditLog.id))
    .limit(query.limit + 1);
  const page = rows.slice(0, query.limit);
  return {
    items: page.map((row) => ({
      id: row.id.toString(),
      occurredAt: row.occurredAt.toISOString(),
      actor: row.actor,
      action: row.action,
      subjectType: row.subjectType,
      subjectId: row.subjectId,
      metadata: row.metadata,
    })),
    nextCursor: rows.length > query.limit ? encodeCursor(page.at(-1)!.id) : null,
  };
}

function encodeCursor(id: bigint): string {
  return Buffer.from(`a:${id}`).toString('base64url');
}

function decodeCursor(cursor: string): bigint {
  const text = Buffer.from(cursor, 'base64url').toString();
  if (!/^a:\d{1,19}$/.test(text))
    throw new AppError('validation_failed', 'cursor is not one this API returned');
  return BigInt(text.slice(2));
}
