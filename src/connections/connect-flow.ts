import { createHash, randomBytes } from 'node:crypto';
import { and, eq, isNotNull, isNull, sql } from 'drizzle-orm';
import { calculatePKCECodeChallenge, generateRandomCodeVerifier, generateRandomState } from 'oauth4webapi';
import { recordAudit } from '../audit/audit-log.ts';
import type { Sealer } from '../crypto/seal.ts';
import type { Db } from '../db/client.ts';
import {
  type ConnectionRow,
  connections,
  connectSessions,
  type IntegrationRow,
  type LastError,
} from '../db/schema.ts';
import { sealContext } from '../db/sealed-columns.ts';
import { AppError } from '../errors.ts';
import { makeId } from '../ids.ts';
import { isOAuthProvider } from '../integrations/integration-schema.ts';
import { getIntegrationRow, integrationContext } from '../integrations/integration-store.ts';
import { getProvider } from '../providers/index.ts';
import { type ProviderDefinition, ProviderError, type ProviderRuntime } from '../providers/provider.ts';
import { movableBy, statusAfter } from './connection-status.ts';
import { openCredentials, sealCredentials } from './credentials.ts';
import { canRenew } from './refresh-policy.ts';

/**
 * The connect flow, as a state machine on connect_sessions:
 *   pending ──GET /connect/:token──▶ authorizing ──callback ok──▶ completed
 *                                          └──denied / bad exchange──▶ failed
 *   any state past expires_at (10 min) ──▶ expired
 * The URL token and the OAuth state are stored only as SHA-256 hashes; the
 * state is single use (consumed by one conditional UPDATE) and bound to its
 * session; the PKCE verifier is sealed. A reconnect of the same account
 * (integration, end user, provider account id) updates its connection.
 */
export const SESSION_TTL_MS = 10 * 60_000;

export interface ConnectDeps {
  db: Db;
  sealer: Sealer;
  runtime: ProviderRuntime;
  publicUrl: string;
}

/** A failure the person sees as a page, and the session records. */
export class ConnectFlowError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(code: string, status: number, message: string) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

const hash = (value: string) => createHash('sha256').update(value).digest('base64url');

export async function createConnectSession(
  deps: ConnectDeps,
  input: { integration: string; endUserId: string; redirectUrl?: string },
): Promise<{ id: string; url: string; expiresAt: string }> {
  const integration = await getIntegrationRow(deps.db, input.integration);
  if (!isOAuthProvider(integration.provider)) {
    throw new AppError(
      'validation_failed',
      `Integration "${integration.key}" receives webhooks; it has no connect flow.`,
    );
  }
  const token = randomBytes(24).toString('base64url');
  const id = makeId('cs');
  const expiresAt = new Date(deps.runtime.now().getTime() + SESSION_TTL_MS);
  await deps.db.transaction(async (tx) => {
    await tx.insert(connectSessions).values({
      id,
      tokenHash: hash(token),
      integrationKey: integration.key,
      endUserId: input.endUserId,
      redirectUrl: input.redirectUrl ?? null,
      status: 'pending',
      expiresAt,
    });
    await recordAudit(tx, {
      actor: 'api',
      action: 'connect_session.created',
      subjectType: 'connect_session',
      subjectId: id,
      metadata: { integration: integration.key, endUserId: input.endUserId },
    });
  });
  return { id, url: `${deps.publicUrl}/connect/${token}`, expiresAt: expiresAt.toISOString() };
}

/** GET /connect/:token → the provider's authorize URL, with a fresh state and PKCE pair. */
export async function startAuthorization(deps: ConnectDeps, token: string): Promise<URL> {
  const [session] = await deps.db
    .select()
    .from(connectSessions)
    .where(eq(connectSessions.tokenHash, hash(token)));
  if (!session)
    throw new ConnectFlowError(
      'unknown_session',
      404,
      'This connect link is not valid. Ask the app for a new one.',
    );
  if (session.status === 'completed')
    throw new ConnectFlowError('session_used', 410, 'This connect link was already used.');
  if (session.expiresAt.getTime() <= deps.runtime.now().getTime()) {
    await deps.db
      .update(connectSessions)
      .set({ status: 'expired', updatedAt: new Date() })
      .where(eq(connectSessions.id, session.id));
    throw new ConnectFlowError(
      'session_expired',
      410,
      'This connect link has expired. Ask the app for a new one.',
    );
  }
  const integration = await getIntegrationRow(deps.db, session.integrationKey);
  const ctx = integrationContext(deps.sealer, integration);
  const provider = getProvider(ctx.provider);
  const state = generateRandomState();
  const usePkce = provider.pkce && ctx.options.pkce !== false;
  const verifier = usePkce ? generateRandomCodeVerifier() : undefined;
  await deps.db
    .update(connectSessions)
    .set({
      status: 'authorizing',
      stateHash: hash(state),
      stateUsedAt: null,
      codeVerifierSealed: verifier
        ? deps.sealer.seal(verifier, sealContext.connectSessionCodeVerifier(session.id))
        : null,
      updatedAt: new Date(),
    })
    .where(eq(connectSessions.id, session.id));
  return provider.authorizationUrl(ctx, {
    state,
    codeChallenge: verifier ? await calculatePKCECodeChallenge(verifier) : undefined,
    redirectUri: `${deps.publicUrl}/oauth/callback`,
    refreshTokenHeld: await holdsRefreshToken(deps, session.integrationKey, session.endUserId),
  });
}

/** Whether one of the end user's connections at this integration holds a refresh token. */
async function holdsRefreshToken(deps: ConnectDeps, integrationKey: string, endUserId: string) {
  const rows = await deps.db
    .select()
    .from(connections)
    .where(
      and(
        eq(connections.integrationKey, integrationKey),
        eq(connections.endUserId, endUserId),
        isNotNull(connections.credentialsSealed),
      ),
    );
  return rows.some((row) => openCredentials(deps.sealer, row)?.refreshToken);
}

export interface CallbackResult {
  connection: ConnectionRow;
  reconnected: boolean;
  warnings: string[];
  redirectUrl: string | null;
}

/** GET /oauth/callback: consume the state, exchange the code, store the connection. */
export async function completeAuthorization(
  deps: ConnectDeps,
  query: Record<string, string | undefined>,
): Promise<CallbackResult> {
  const state = query.state;
  if (!state)
    throw new ConnectFlowError(
      'missing_state',
      400,
      'The sign-in answer has no state; start again from the app.',
    );
  const now = deps.runtime.now();
  const [session] = await deps.db
    .update(connectSessions)
    .set({ stateUsedAt: now, updatedAt: now })
    .where(and(eq(connectSessions.stateHash, hash(state)), isNull(connectSessions.stateUsedAt)))
    .returning();
  if (!session) {
    const [used] = await deps.db
      .select({ id: connectSessions.id })
      .from(connectSessions)
      .where(eq(connectSessions.stateHash, hash(state)));
    throw used
      ? new ConnectFlowError(
          'state_reused',
          400,
          'This sign-in answer was already used. Start again from the app.',
        )
      : new ConnectFlowError(
          'state_unknown',
          400,
          'This sign-in answer does not belong to any connect session here.',
        );
  }
  const fail = async (code: string, status: number, message: string): Promise<never> => {
    await deps.db.transaction(async (tx) => {
      await tx
        .update(connectSessions)
        .set({
          status: code === 'session_expired' ? 'expired' : 'failed',
          error: { code, message },
          updatedAt: now,
        })
        .where(eq(connectSessions.id, session.id));
      await recordAudit(tx, {
        actor: 'end_user',
        action: 'connect_session.failed',
        subjectType: 'connect_session',
        subjectId: session.id,
        metadata: { reason: code, endUserId: session.endUserId },
      });
    });
    throw new ConnectFlowError(code, status, message);
  };
  if (session.expiresAt.getTime() <= now.getTime())
    return fail(
      'session_expired',
      410,
      'This connect link expired before sign-in finished. Ask the app for a new one.',
    );
  const integration = await getIntegrationRow(deps.db, session.integrationKey);
  const ctx = integrationContext(deps.sealer, integration);
  const provider = getProvider(ctx.provider);
  if (query.error) {
    const denied = query.error === 'access_denied';
    return fail(
      denied ? 'access_denied' : 'provider_error',
      400,
      denied
        ? `You declined to connect ${provider.displayName}. Nothing was connected.`
        : `${provider.displayName} answered with an error (${query.error.slice(0, 60)}). Nothing was connected.`,
    );
  }
  if (!query.code)
    return fail(
      'missing_code',
      400,
      `${provider.displayName} sent no authorization code. Start again from the app.`,
    );
  const verifier = session.codeVerifierSealed
    ? deps.sealer.open(session.codeVerifierSealed, sealContext.connectSessionCodeVerifier(session.id))
    : undefined;
  let account: Awaited<ReturnType<typeof provider.afterConnect>>;
  try {
    const tokens = await provider.exchangeCode(ctx, deps.runtime, {
      code: query.code,
      codeVerifier: verifier,
      redirectUri: `${deps.publicUrl}/oauth/callback`,
    });
    account = await provider.afterConnect(ctx, deps.runtime, tokens);
  } catch (error) {
    const detail = error instanceof ProviderError ? ` (${error.providerCode ?? error.kind})` : '';
    return fail(
      'exchange_failed',
      502,
      `${provider.displayName} did not complete the sign-in${detail}. Nothing was connected; try again.`,
    );
  }
  const { connection, reconnected } = await storeConnection(
    deps,
    integration,
    provider,
    session.endUserId,
    account,
  );
  await deps.db.transaction(async (tx) => {
    await tx
      .update(connectSessions)
      .set({ status: 'completed', connectionId: connection.id, codeVerifierSealed: null, updatedAt: now })
      .where(eq(connectSessions.id, session.id));
    await recordAudit(tx, {
      actor: 'end_user',
      action: reconnected ? 'connection.reconnected' : 'connection.created',
      subjectType: 'connection',
      subjectId: connection.id,
      metadata: {
        provider: provider.name,
        integration: integration.key,
        endUserId: session.endUserId,
        warnings: account.warnings,
      },
    });
  });
  return { connection, reconnected, warnings: account.warnings, redirectUrl: session.redirectUrl };
}

async function storeConnection(
  deps: ConnectDeps,
  integration: IntegrationRow,
  provider: ProviderDefinition,
  endUserId: string,
  account: Awaited<ReturnType<ReturnType<typeof getProvider>['afterConnect']>>,
): Promise<{ connection: ConnectionRow; reconnected: boolean }> {
  const now = deps.runtime.now();
  const { tokens } = account;
  return deps.db.transaction(async (tx) => {
    const [existing] = await tx
      .select()
      .from(connections)
      .where(
        and(
          eq(connections.integrationKey, integration.key),
          eq(connections.endUserId, endUserId),
          eq(connections.providerAccountId, account.accountId),
        ),
      )
      .for('update');
    const id = existing?.id ?? makeId('conn');
    // A repeat consent may bring no refresh token (Google without prompt=consent) while the one
    // tether holds still works: keep it.
    const kept =
      tokens.refreshToken === undefined && existing
        ? openCredentials(deps.sealer, existing)?.refreshToken
        : null;
    const refreshToken = tokens.refreshToken ?? kept ?? null;
    const credentials = sealCredentials(deps.sealer, id, {
      accessToken: tokens.accessToken,
      refreshToken,
      ...(tokens.secretExtras ? { secretExtras: tokens.secretExtras } : {}),
    });
    const fields = {
      ...statusAfter('connected'),
      credentialsSealed: credentials,
      previousRefreshTokenSealed: null,
      refreshTokenRotatedAt: null,
      accessTokenIssuedAt: now,
      expiresAt: tokens.expiresIn !== undefined ? new Date(now.getTime() + tokens.expiresIn * 1000) : null,
      refreshExpiresAt:
        tokens.refreshExpiresIn !== undefined
          ? new Date(now.getTime() + tokens.refreshExpiresIn * 1000)
          : null,
      metadata: { ...account.metadata, ...(tokens.extras ? { token: tokens.extras } : {}) },
      lastRefreshAt: now,
      lastError: cannotRenew(provider, refreshToken, tokens.expiresIn, account.warnings, now),
      failureCount: 0,
      nextAttemptAt: null,
      refreshLeaseOwner: null,
      refreshLeaseUntil: null,
      updatedAt: now,
    };
    if (existing) {
      const [updated] = await tx
        .update(connections)
        .set({ ...fields, credentialsVersion: sql`${connections.credentialsVersion} + 1` })
        .where(and(eq(connections.id, id), movableBy('connected')))
        .returning();
      return { connection: updated!, reconnected: true };
    }
    const [inserted] = await tx
      .insert(connections)
      .values({
        id,
        integrationKey: integration.key,
        provider: integration.provider,
        endUserId,
        providerAccountId: account.accountId,
        ...fields,
      })
      .returning();
    return { connection: inserted!, reconnected: false };
  });
}

/**
 * The lastError of a connection whose token will expire with no way to renew it: for the
 * operator (the provider's own warning names what to change), never shown to the end user.
 */
function cannotRenew(
  provider: ProviderDefinition,
  refreshToken: string | null,
  expiresIn: number | undefined,
  warnings: string[],
  now: Date,
): LastError | null {
  if (expiresIn === undefined || canRenew(provider, refreshToken)) return null;
  return {
    code: 'no_refresh_token',
    message:
      warnings.join(' ') ||
      `${provider.displayName} gave no refresh token, so this connection cannot renew its access token and needs reconnecting when it expires. Check the integration's extraAuthorizeParams (offline access, consent), then have the end user connect again.`,
    at: now.toISOString(),
  };
}
