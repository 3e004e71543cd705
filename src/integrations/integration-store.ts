import { and, eq, ne, sql } from 'drizzle-orm';
import { recordAudit } from '../audit/audit-log.ts';
import type { Sealer } from '../crypto/seal.ts';
import type { Db } from '../db/client.ts';
import { type Keyset, type PageRequest, tablePage } from '../db/keyset.ts';
import { connections, type IntegrationRow, integrations } from '../db/schema.ts';
import { sealContext } from '../db/sealed-columns.ts';
import { AppError } from '../errors.ts';
import { getProvider } from '../providers/index.ts';
import type { IntegrationContext, IntegrationOptions, ProviderRuntime } from '../providers/provider.ts';
import { isWebhookSource, WEBHOOK_BODY_FIELDS } from '../webhooks/sources/index.ts';
import { verifierSettings } from '../webhooks/sources/verifier-settings.ts';
import { parseWebhookSettings } from '../webhooks/verifiers/index.ts';
import {
  type IntegrationFields,
  type IntegrationInput,
  type IntegrationView,
  isOAuthProvider,
  missingRequirement,
  type ProviderName,
} from './integration-schema.ts';
import { openClientSecret, sealWebhookSecrets } from './integration-secrets.ts';

/**
 * Integrations: an app's credentials at one provider. Client secrets and
 * webhook secrets are sealed at rest and never leave through the API; the
 * view says only whether they are set.
 */
export interface IntegrationDeps {
  db: Db;
  sealer: Sealer;
  publicUrl: string;
  /** The clock (`runtime.now()`). */
  runtime: Pick<ProviderRuntime, 'now'>;
}

const OPTION_FIELDS = [
  'tokenEndpointAuthMethod',
  'scopeSeparator',
  'extraAuthorizeParams',
  'rotatesRefreshTokens',
  'refreshMarginSeconds',
  'refreshWindowSeconds',
  'notionVersion',
  'gmailWatchTopic',
  'pkce',
  'syncs',
] as const;

/** The body fields webhook sources own, kept as given in `integrations.webhook`. */
const WEBHOOK_FIELDS = Object.keys(WEBHOOK_BODY_FIELDS) as (keyof typeof WEBHOOK_BODY_FIELDS)[];

export async function createIntegration(
  deps: IntegrationDeps,
  input: IntegrationInput,
  actor: string,
): Promise<IntegrationView> {
  const problem = missingRequirement(input.provider, input);
  if (problem) throw new AppError('validation_failed', `Invalid integration: ${problem}.`);
  const row = await deps.db.transaction(async (tx) => {
    const [inserted] = await tx
      .insert(integrations)
      .values({ key: input.key, provider: input.provider, ...columnsFrom(deps.sealer, input.key, input) })
      .onConflictDoNothing()
      .returning();
    if (!inserted) throw new AppError('conflict', `An integration with key "${input.key}" already exists.`);
    checkWebhookSettings(deps.sealer, inserted);
    await recordAudit(tx, {
      actor,
      action: 'integration.created',
      subjectType: 'integration',
      subjectId: input.key,
      metadata: { provider: input.provider },
    });
    return inserted;
  });
  return toView(deps.publicUrl, row);
}

export async function updateIntegration(
  deps: IntegrationDeps,
  key: string,
  patch: IntegrationFields,
  actor: string,
): Promise<IntegrationView> {
  const row = await deps.db.transaction(async (tx) => {
    const [current] = await tx.select().from(integrations).where(eq(integrations.key, key)).for('update');
    if (!current) throw notFound(key);
    const merged = { ...fieldsOf(current), ...patch };
    const problem = missingRequirement(current.provider as ProviderName, {
      ...merged,
      clientSecret: patch.clientSecret ?? (current.clientSecretSealed ? 'set' : undefined),
      webhookSecrets: patch.webhookSecrets ?? (current.webhookSecretsSealed ? ['set'] : undefined),
    });
    if (problem) throw new AppError('validation_failed', `Invalid integration: ${problem}.`);
    const [updated] = await tx
      .update(integrations)
      .set({ ...columnsFrom(deps.sealer, key, patch, current), updatedAt: deps.runtime.now() })
      .where(eq(integrations.key, key))
      .returning();
    checkWebhookSettings(deps.sealer, updated!);
    if (patch.clientId !== undefined || patch.clientSecret !== undefined) {
      // New app credentials: connections paused by invalid_client may try again at once.
      await tx.update(integrations).set({ lastError: null }).where(eq(integrations.key, key));
      await tx
        .update(connections)
        .set({ nextAttemptAt: null })
        .where(
          and(
            eq(connections.integrationKey, key),
            sql`${connections.lastError}->>'code' = 'integration_misconfigured'`,
          ),
        );
    }
    await recordAudit(tx, {
      actor,
      action: 'integration.updated',
      subjectType: 'integration',
      subjectId: key,
      metadata: { fields: Object.keys(patch) },
    });
    return updated!;
  });
  return toView(deps.publicUrl, row);
}

export async function deleteIntegration(deps: IntegrationDeps, key: string, actor: string): Promise<void> {
  await deps.db.transaction(async (tx) => {
    const [live] = await tx
      .select({ count: sql<number>`count(*)::int` })
      .from(connections)
      .where(and(eq(connections.integrationKey, key), ne(connections.status, 'disconnected')));
    if (live && live.count > 0) {
      throw new AppError(
        'conflict',
        `Integration "${key}" still has ${live.count} connection(s); disconnect them first.`,
      );
    }
    await tx.delete(connections).where(eq(connections.integrationKey, key));
    const deleted = await tx
      .delete(integrations)
      .where(eq(integrations.key, key))
      .returning({ key: integrations.key });
    if (deleted.length === 0) throw notFound(key);
    await recordAudit(tx, {
      actor,
      action: 'integration.deleted',
      subjectType: 'integration',
      subjectId: key,
    });
  });
}

export async function getIntegrationRow(db: Db, key: string): Promise<IntegrationRow> {
  const [row] = await db.select().from(integrations).where(eq(integrations.key, key));
  if (!row) throw notFound(key);
  return row;
}

export async function getIntegration(deps: IntegrationDeps, key: string): Promise<IntegrationView> {
  return toView(deps.publicUrl, await getIntegrationRow(deps.db, key));
}

const integrationsByKey: Keyset = {
  list: 'integrations',
  direction: 'asc',
  keys: [{ column: integrations.key, kind: 'text' }],
};

export async function listIntegrations(
  deps: IntegrationDeps,
  request: PageRequest,
): Promise<{ items: IntegrationView[]; nextCursor: string | null }> {
  const { rows, nextCursor } = await tablePage(deps.db, integrations, integrationsByKey, request);
  return { items: rows.map((row) => toView(deps.publicUrl, row)), nextCursor };
}

/** The integration as providers see it, secrets opened. Only for OAuth providers. */
export function integrationContext(sealer: Sealer, row: IntegrationRow): IntegrationContext {
  if (!isOAuthProvider(row.provider)) {
    throw new AppError(
      'validation_failed',
      `Integration "${row.key}" is a ${row.provider} webhook source, not an OAuth provider.`,
    );
  }
  const provider = getProvider(row.provider);
  const options = row.options as IntegrationOptions;
  return {
    key: row.key,
    provider: row.provider,
    clientId: row.clientId ?? '',
    clientSecret: openClientSecret(sealer, row) ?? '',
    scopes: row.scopes.length ? row.scopes : provider.defaultScopes,
    endpoints: { ...provider.defaultEndpoints, ...row.endpoints },
    options,
  };
}

function columnsFrom(sealer: Sealer, key: string, fields: IntegrationFields, current?: IntegrationRow) {
  const options: Record<string, unknown> = { ...(current?.options ?? {}) };
  for (const name of OPTION_FIELDS) if (fields[name] !== undefined) options[name] = fields[name];
  const webhook: Record<string, unknown> = { ...(current?.webhook ?? {}) };
  for (const name of WEBHOOK_FIELDS) if (fields[name] !== undefined) webhook[name] = fields[name];
  if (fields.webhookSecrets !== undefined) webhook.secretsCount = fields.webhookSecrets.length;
  return {
    ...(fields.clientId !== undefined ? { clientId: fields.clientId } : {}),
    ...(fields.clientSecret !== undefined
      ? { clientSecretSealed: sealer.seal(fields.clientSecret, sealContext.integrationClientSecret(key)) }
      : {}),
    ...(fields.scopes !== undefined ? { scopes: fields.scopes } : {}),
    ...(fields.endpoints !== undefined
      ? { endpoints: { ...(current?.endpoints ?? {}), ...fields.endpoints } }
      : {}),
    ...(fields.webhookSecrets !== undefined
      ? { webhookSecretsSealed: sealWebhookSecrets(sealer, key, fields.webhookSecrets) }
      : {}),
    options,
    webhook,
  };
}

function fieldsOf(row: IntegrationRow): IntegrationFields {
  return {
    clientId: row.clientId ?? undefined,
    scopes: row.scopes,
    endpoints: row.endpoints,
    ...(row.webhook as IntegrationFields),
    ...(row.options as IntegrationFields),
  };
}

function toView(publicUrl: string, row: IntegrationRow): IntegrationView {
  return {
    key: row.key,
    provider: row.provider,
    clientId: row.clientId,
    hasClientSecret: row.clientSecretSealed !== null,
    scopes: row.scopes,
    endpoints: row.endpoints,
    options: row.options,
    webhook: row.webhook,
    // The count is kept beside the sealed list so the view never opens a secret.
    webhookSecretsCount: Number(row.webhook.secretsCount ?? 0),
    ...(isOAuthProvider(row.provider)
      ? { redirectUri: `${publicUrl}/oauth/callback` }
      : { webhookUrl: `${publicUrl}/webhooks/${row.key}` }),
    lastError: row.lastError ?? null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** A webhook source's settings must make a working verifier; checked inside the writing transaction. */
function checkWebhookSettings(sealer: Sealer, row: IntegrationRow): void {
  if (!isWebhookSource(row.provider)) return;
  const parsed = parseWebhookSettings(row.provider, verifierSettings(sealer, row, row.provider));
  if (!parsed.ok) throw new AppError('validation_failed', parsed.message);
}

function notFound(key: string): AppError {
  return new AppError('not_found', `No integration with key "${key}".`);
}
