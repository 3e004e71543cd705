import type { Db } from '../db/client.ts';
import type { ConnectionStatus } from '../db/schema.ts';
import { encodeRecordsCursor } from '../syncs/records-cursor.ts';
import { emitEvent, type OutboundEvent } from './emit.ts';

/**
 * The events of each kind of state, built from the row the change wrote, so each place a state
 * changes makes one call inside its transaction: `emit…` writes the event there and then; a webhook
 * effect returns its `…Event` instead, which the worker writes with its batch's (apply-events.ts).
 * `version` is the state's own clock (the row's
 * updated time, a status rank, a finish time): a consumer keeps the newest it has seen.
 */

export interface ConnectionState {
  id: string;
  integrationKey: string;
  provider: string;
  endUserId: string;
  status: ConnectionStatus;
  updatedAt: Date;
}

export type ConnectionEventType =
  | 'connection.created'
  | 'connection.degraded'
  | 'connection.recovered'
  | 'connection.reauthorization_required'
  | 'connection.disconnected';

export function emitConnectionEvent(
  tx: Db,
  type: ConnectionEventType,
  connection: ConnectionState,
  reason?: string,
): Promise<string> {
  return emitEvent(tx, {
    type,
    occurredAt: connection.updatedAt,
    data: {
      connectionId: connection.id,
      integration: connection.integrationKey,
      provider: connection.provider,
      endUserId: connection.endUserId,
      status: connection.status,
      ...(reason ? { reason } : {}),
      version: connection.updatedAt.toISOString(),
    },
  });
}

/** A payment's change, as its effect returns it (the webhook worker writes it with the batch). */
export function paymentUpdatedEvent(payment: {
  provider: string;
  integrationKey: string;
  objectId: string;
  status: string;
  statusRank: number;
  disputeStatus: string | null;
  refundedAmount: number | string | null;
  sourceEventId: string;
}): OutboundEvent {
  return {
    type: 'payment.updated',
    data: {
      provider: payment.provider,
      integration: payment.integrationKey,
      paymentId: payment.objectId,
      status: payment.status,
      disputeStatus: payment.disputeStatus,
      refundedAmount: payment.refundedAmount === null ? 0 : Number(payment.refundedAmount),
      sourceEventId: payment.sourceEventId,
      // Forward-only: a higher (statusRank, refundedAmount) is newer.
      version: { statusRank: payment.statusRank, refundedAmount: Number(payment.refundedAmount ?? 0) },
    },
  };
}

/** An envelope's change, as its effect returns it (the webhook worker writes it with the batch). */
export function signatureRequestUpdatedEvent(envelope: {
  envelopeId: string;
  integrationKey: string;
  accountId: string | null;
  status: string;
  statusRank: number;
  statusChangedAt: Date;
}): OutboundEvent {
  return {
    type: 'signature_request.updated',
    data: {
      envelopeId: envelope.envelopeId,
      integration: envelope.integrationKey,
      accountId: envelope.accountId,
      status: envelope.status,
      statusChangedAt: envelope.statusChangedAt.toISOString(),
      version: envelope.statusRank,
    },
  };
}

export function emitSyncFinished(
  tx: Db,
  run: {
    id: string;
    connection_id: string;
    sync_name: string;
    status: string;
    imported: number;
    updated: number;
    unchanged: number;
    deleted: number;
    skipped: number;
    failed: number;
    error: { code: string; message: string } | null;
    started_at: Date | string | null;
    finished_at: Date | string | null;
    records_from: string | number | bigint | null;
  },
): Promise<string> {
  const finishedAt = run.finished_at ? new Date(run.finished_at) : new Date();
  const startedAt = run.started_at ? new Date(run.started_at).toISOString() : null;
  return emitEvent(tx, {
    type: run.status === 'failed' ? 'sync.failed' : 'sync.completed',
    occurredAt: finishedAt,
    data: {
      runId: run.id,
      connectionId: run.connection_id,
      sync: run.sync_name,
      status: run.status,
      counts: {
        imported: run.imported,
        updated: run.updated,
        unchanged: run.unchanged,
        deleted: run.deleted,
        skipped: run.skipped,
        failed: run.failed,
      },
      error: run.error,
      // Every record this run wrote comes after `cursor` in the change order (and has
      // lastModifiedAt at or after its start): GET /v1/connections/:connectionId/records/:model?cursor=…
      records: {
        cursor: run.records_from === null ? null : encodeRecordsCursor(String(run.records_from)),
        modifiedAfter: startedAt,
      },
      startedAt,
      version: finishedAt.toISOString(),
    },
  });
}
