import type { z } from 'zod';
import type { AuditEntry } from '../audit/audit-log.ts';
import type { ConnectionView } from '../connections/connection-view.ts';
import type { EventView } from '../webhooks/event-routes.ts';

/** The shapes the dashboard reads, taken from the routes' own schemas where they are exported. */
export type { AuditEntry, ConnectionView };
export type InboxEvent = z.infer<typeof EventView>;
export type InboxEventWithPayload = InboxEvent & { payload: unknown };

export interface List<T> {
  items: T[];
  nextCursor: string | null;
  hasMore?: boolean;
}

export interface StatusSummary {
  total: number;
  byStatus: Record<string, number>;
}

export interface IntegrationItem {
  key: string;
  provider: string;
}

export interface ConnectSession {
  id: string;
  url: string;
  expiresAt: string;
}

export interface RecordItem {
  id: string;
  data: unknown;
  lastModifiedAt: string;
  lastAction: string;
}

/** Fields the dashboard shows of the sync and event-subscription routes. */
export interface SyncItem {
  name: string;
  models: string[];
  frequency: unknown;
  enabled: boolean;
  lastRun: SyncRunItem | null;
  nextRunAt: string | null;
}

export interface SyncRunItem {
  id: string;
  status: string;
  sync?: string;
  connectionId?: string;
  startedAt?: string;
  finishedAt?: string | null;
  counts?: Record<string, number>;
}

export interface SubscriptionItem {
  id: string;
  url: string;
  enabled: boolean;
  failingSince: string | null;
}

export interface ErrorBody {
  error?: { code?: unknown; message?: unknown };
}
