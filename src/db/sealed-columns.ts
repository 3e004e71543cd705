/**
 * Every column that holds a sealed secret, so `tether keys rotate` can find
 * them all. A module that adds a sealed column adds it here; the context is
 * the associated data it was sealed with (see crypto/seal.ts).
 */
export interface SealedColumn {
  table: string;
  idColumn: string;
  column: string;
  context: (id: string) => string;
}

export const sealContext = {
  integrationClientSecret: (key: string) => `integrations.client_secret:${key}`,
  integrationWebhookSecrets: (key: string) => `integrations.webhook_secrets:${key}`,
  connectionCredentials: (id: string) => `connections.credentials:${id}`,
  connectionPreviousRefreshToken: (id: string) => `connections.previous_refresh_token:${id}`,
  connectSessionCodeVerifier: (id: string) => `connect_sessions.code_verifier:${id}`,
  eventSubscriptionSecrets: (id: string) => `event_subscriptions.secrets:${id}`,
} as const;

export const sealedColumns: SealedColumn[] = [
  {
    table: 'integrations',
    idColumn: 'key',
    column: 'client_secret_sealed',
    context: sealContext.integrationClientSecret,
  },
  {
    table: 'integrations',
    idColumn: 'key',
    column: 'webhook_secrets_sealed',
    context: sealContext.integrationWebhookSecrets,
  },
  {
    table: 'connections',
    idColumn: 'id',
    column: 'credentials_sealed',
    context: sealContext.connectionCredentials,
  },
  {
    table: 'connections',
    idColumn: 'id',
    column: 'previous_refresh_token_sealed',
    context: sealContext.connectionPreviousRefreshToken,
  },
  {
    table: 'connect_sessions',
    idColumn: 'id',
    column: 'code_verifier_sealed',
    context: sealContext.connectSessionCodeVerifier,
  },
  {
    table: 'event_subscriptions',
    idColumn: 'id',
    column: 'secrets_sealed',
    context: sealContext.eventSubscriptionSecrets,
  },
];
