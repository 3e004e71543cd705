import {
  bigint,
  boolean,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  primaryKey,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';

/**
 * Drizzle's view of the tables. The SQL files in migrations/ create them;
 * schema.test.ts checks that every column declared here exists there.
 */
export const auditLog = pgTable(
  'audit_log',
  {
    id: bigint('id', { mode: 'bigint' }).primaryKey().generatedAlwaysAsIdentity(),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull().defaultNow(),
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    subjectType: text('subject_type'),
    subjectId: text('subject_id'),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [
    index('audit_log_action_idx').on(t.action, t.id),
    index('audit_log_subject_idx').on(t.subjectType, t.subjectId, t.id),
  ],
);

export interface LastError {
  code: string;
  message: string;
  at: string;
}

export const integrations = pgTable('integrations', {
  key: text('key').primaryKey(),
  provider: text('provider').notNull(),
  clientId: text('client_id'),
  clientSecretSealed: text('client_secret_sealed'),
  scopes: text('scopes').array().notNull().default([]),
  endpoints: jsonb('endpoints').$type<Record<string, string>>().notNull().default({}),
  options: jsonb('options').$type<Record<string, unknown>>().notNull().default({}),
  webhook: jsonb('webhook').$type<Record<string, unknown>>().notNull().default({}),
  webhookSecretsSealed: text('webhook_secrets_sealed'),
  lastError: jsonb('last_error').$type<LastError>(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

export const connectSessions = pgTable('connect_sessions', {
  id: text('id').primaryKey(),
  tokenHash: text('token_hash').notNull().unique(),
  integrationKey: text('integration_key').notNull(),
  endUserId: text('end_user_id').notNull(),
  redirectUrl: text('redirect_url'),
  status: text('status').$type<'pending' | 'authorizing' | 'completed' | 'failed' | 'expired'>().notNull(),
  stateHash: text('state_hash').unique(),
  codeVerifierSealed: text('code_verifier_sealed'),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  stateUsedAt: timestamp('state_used_at', { withTimezone: true }),
  /** SHA-256 of the cookie given to the browser that opened the connect link (connect-cookie.ts). */
  browserBindingHash: text('browser_binding_hash'),
  error: jsonb('error').$type<{ code: string; message: string }>(),
  connectionId: text('connection_id'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

export type ConnectionStatus = 'connected' | 'degraded' | 'reauthorization_required' | 'disconnected';

export const connections = pgTable('connections', {
  id: text('id').primaryKey(),
  integrationKey: text('integration_key').notNull(),
  provider: text('provider').notNull(),
  endUserId: text('end_user_id').notNull(),
  providerAccountId: text('provider_account_id').notNull(),
  status: text('status').$type<ConnectionStatus>().notNull(),
  credentialsSealed: text('credentials_sealed'),
  previousRefreshTokenSealed: text('previous_refresh_token_sealed'),
  refreshTokenRotatedAt: timestamp('refresh_token_rotated_at', { withTimezone: true }),
  accessTokenIssuedAt: timestamp('access_token_issued_at', { withTimezone: true }),
  expiresAt: timestamp('expires_at', { withTimezone: true }),
  refreshExpiresAt: timestamp('refresh_expires_at', { withTimezone: true }),
  metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
  lastRefreshAt: timestamp('last_refresh_at', { withTimezone: true }),
  lastError: jsonb('last_error').$type<LastError>(),
  failureCount: integer('failure_count').notNull().default(0),
  nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }),
  refreshLeaseOwner: text('refresh_lease_owner'),
  refreshLeaseUntil: timestamp('refresh_lease_until', { withTimezone: true }),
  credentialsVersion: integer('credentials_version').notNull().default(0),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

export type ConnectionRow = typeof connections.$inferSelect;
export type IntegrationRow = typeof integrations.$inferSelect;

export type WebhookEventStatus = 'pending' | 'processing' | 'processed' | 'failed' | 'dead';

export const webhookEvents = pgTable('webhook_events', {
  id: text('id').primaryKey(),
  integrationKey: text('integration_key').notNull(),
  source: text('source').notNull(),
  eventId: text('event_id').notNull(),
  type: text('type').notNull(),
  payload: jsonb('payload').notNull(),
  status: text('status').$type<WebhookEventStatus>().notNull(),
  attempts: integer('attempts').notNull().default(0),
  lastError: text('last_error'),
  receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
  processedAt: timestamp('processed_at', { withTimezone: true }),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
export type WebhookEventRow = typeof webhookEvents.$inferSelect;

export const payments = pgTable('payments', {
  id: text('id').primaryKey(),
  provider: text('provider').notNull(),
  integrationKey: text('integration_key').notNull(),
  providerObjectId: text('provider_object_id').notNull(),
  status: text('status').notNull(),
  statusRank: integer('status_rank').notNull(),
  amount: bigint('amount', { mode: 'number' }),
  currency: text('currency'),
  refundedAmount: bigint('refunded_amount', { mode: 'number' }).notNull().default(0),
  disputeStatus: text('dispute_status'),
  customer: text('customer'),
  lastEventId: text('last_event_id'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

export const signatureRequests = pgTable('signature_requests', {
  envelopeId: text('envelope_id').primaryKey(),
  integrationKey: text('integration_key').notNull(),
  accountId: text('account_id'),
  status: text('status').notNull(),
  statusRank: integer('status_rank').notNull(),
  lastEventId: text('last_event_id'),
  statusChangedAt: timestamp('status_changed_at', { withTimezone: true }),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

export const gmailMailboxes = pgTable('gmail_mailboxes', {
  emailAddress: text('email_address').primaryKey(),
  integrationKey: text('integration_key').notNull(),
  historyId: numeric('history_id', { precision: 20, scale: 0 }).notNull(),
  lastMessageId: text('last_message_id'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

export const dashboardSessions = pgTable('dashboard_sessions', {
  idHash: text('id_hash').primaryKey(),
  csrfToken: text('csrf_token').notNull(),
  signedInWith: text('signed_in_with').$type<'api_key' | 'admin_password'>().notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
});

export const gmailWatches = pgTable('gmail_watches', {
  connectionId: text('connection_id').primaryKey(),
  topicName: text('topic_name').notNull(),
  historyId: numeric('history_id', { precision: 20, scale: 0 }),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  renewedAt: timestamp('renewed_at', { withTimezone: true }).notNull(),
  lastError: jsonb('last_error').$type<LastError>(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

// Syncs (migrations 0011 and 0013). The runner writes them through SQL statements (src/syncs/);
// these declarations serve the keyset-paged lists of the control routes.
export const syncRuns = pgTable('sync_runs', {
  id: text('id').primaryKey(),
  connectionId: text('connection_id').notNull(),
  syncName: text('sync_name').notNull(),
  status: text('status').$type<'running' | 'succeeded' | 'partial' | 'failed'>().notNull(),
  trigger: text('trigger').notNull(),
  imported: integer('imported').notNull(),
  updated: integer('updated').notNull(),
  unchanged: integer('unchanged').notNull(),
  deleted: integer('deleted').notNull(),
  skipped: integer('skipped').notNull(),
  failed: integer('failed').notNull(),
  pages: integer('pages').notNull(),
  recordsFrom: bigint('records_from', { mode: 'bigint' }),
  owner: text('owner'),
  leaseUntil: timestamp('lease_until', { withTimezone: true }),
  error: jsonb('error').$type<{ code: string; message: string }>(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  startedAt: timestamp('started_at', { withTimezone: true }),
  finishedAt: timestamp('finished_at', { withTimezone: true }),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
});
export type SyncRunDbRow = typeof syncRuns.$inferSelect;

export const syncFailedRecords = pgTable(
  'sync_failed_records',
  {
    connectionId: text('connection_id').notNull(),
    syncName: text('sync_name').notNull(),
    model: text('model').notNull(),
    externalId: text('external_id').notNull(),
    error: jsonb('error').$type<{ code: string; message: string }>().notNull(),
    attempts: integer('attempts').notNull(),
    lastRunId: text('last_run_id'),
    firstFailedAt: timestamp('first_failed_at', { withTimezone: true }).notNull(),
    lastFailedAt: timestamp('last_failed_at', { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.connectionId, t.syncName, t.model, t.externalId] })],
);

export const syncSchedules = pgTable(
  'sync_schedules',
  {
    connectionId: text('connection_id').notNull(),
    syncName: text('sync_name').notNull(),
    enabled: boolean('enabled'),
    frequencyMinutes: integer('frequency_minutes'),
    nextRunAt: timestamp('next_run_at', { withTimezone: true }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.connectionId, t.syncName] })],
);
export type SyncScheduleRow = typeof syncSchedules.$inferSelect;
export const eventSubscriptions = pgTable('event_subscriptions', {
  id: text('id').primaryKey(),
  url: text('url').notNull(),
  events: jsonb('events').$type<string[]>().notNull(),
  description: text('description'),
  enabled: boolean('enabled').notNull().default(true),
  disabledReason: text('disabled_reason'),
  secretsSealed: text('secrets_sealed').notNull(),
  consecutiveFailures: integer('consecutive_failures').notNull().default(0),
  failingSince: timestamp('failing_since', { withTimezone: true }),
  breakerOpenUntil: timestamp('breaker_open_until', { withTimezone: true }),
  lastSuccessAt: timestamp('last_success_at', { withTimezone: true }),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
export type EventSubscriptionRow = typeof eventSubscriptions.$inferSelect;

export const outboundEvents = pgTable('outbound_events', {
  id: text('id').primaryKey(),
  type: text('type').notNull(),
  data: jsonb('data').$type<Record<string, unknown>>().notNull(),
  occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull(),
});

export type EventDeliveryStatus = 'pending' | 'succeeded' | 'failed';

export const eventDeliveries = pgTable('event_deliveries', {
  id: text('id').primaryKey(),
  eventId: text('event_id').notNull(),
  subscriptionId: text('subscription_id').notNull(),
  eventType: text('event_type').notNull(),
  status: text('status').$type<EventDeliveryStatus>().notNull(),
  attempts: integer('attempts').notNull().default(0),
  nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }),
  claimToken: text('claim_token'),
  claimedUntil: timestamp('claimed_until', { withTimezone: true }),
  lastAttemptAt: timestamp('last_attempt_at', { withTimezone: true }),
  lastResponseStatus: integer('last_response_status'),
  lastLatencyMs: integer('last_latency_ms'),
  lastResponseBody: text('last_response_body'),
  lastError: text('last_error'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
export type EventDeliveryRow = typeof eventDeliveries.$inferSelect;
