import { eq, type SQL } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { type Keyset, tablePage } from '../db/keyset.ts';
import { auditLog } from '../db/schema.ts';
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

const auditNewestFirst: Keyset = {
  list: 'audit',
  direction: 'desc',
  keys: [{ column: auditLog.id, kind: 'bigint' }],
};

/** Newest first, keyset-paginated on the id (see src/db/keyset.ts). */
export async function listAudit(db: Db, query: AuditQuery): Promise<AuditPage> {
  const conditions: SQL[] = [];
  if (query.action) conditions.push(eq(auditLog.action, query.action));
  if (query.subjectType) conditions.push(eq(auditLog.subjectType, query.subjectType));
  if (query.subjectId) conditions.push(eq(auditLog.subjectId, query.subjectId));
  const { rows, nextCursor } = await tablePage(db, auditLog, auditNewestFirst, query, conditions);
  return {
    items: rows.map((row) => ({
      id: row.id.toString(),
      occurredAt: row.occurredAt.toISOString(),
      actor: row.actor,
      action: row.action,
      subjectType: row.subjectType,
      subjectId: row.subjectId,
      metadata: row.metadata,
    })),
    nextCursor,
  };
}
