import { createHash, randomBytes } from 'node:crypto';
import { and, eq, isNotNull, isNull, sql } from 'drizzle-orm';
import { calculatePKCECodeChallenge, generateRandomCodeVerifier, generateRandomState } from 'oauth4webapi';
import { recordAudit } from '../audit/audit-log.ts';
import { safeEqual } from '../crypto/constant-time.ts';
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
import { AppError, type ConnectOutcomeCode } from '../errors.ts';
import { emitConnectionEvent } from '../events/state-events.ts';
import { makeId } from '../ids.ts';
import { isOAuthProvider } from '../integrations/integration-schema.ts';
import { getIntegrationRow, integrationContext } from '../integrations/integration-store.ts';
import { getProvider } from '../providers/index.ts';
import {
  type ConnectedAccount,
  type ProviderDefinition,
  ProviderError,
  type ProviderRuntime,
} from '../providers/provider.ts';
import { newBrowserBinding, readBrowserBinding } from './connect-cookie.ts';
import { movableTo } from './connect-outcome.ts';
import { movableBy, statusAfter } from './connection-status.ts';
import { openCredentials, sealCredentials } from './credentials.ts';
import { checkRedirectUrl, type RedirectPolicy, returnUrl } from './redirect-url.ts';
import { canRenew } from './refresh-policy.ts';

/**
 * The connect flow, as a state machine on connect_sessions:
 *   pending ──GET /connect/:token──▶ authorizing ──callback ok──▶ completed
 *                                          └──denied / bad exchange / other browser──▶ failed
 *   pending or authorizing past expires_at (10 min) ──▶ expired
 * completed, failed and expired are final: they are the outcome the app reads
 * (GET /v1/connect-sessions/:id) and is sent back with (redirectUrl). Every
 * status UPDATE is guarded by the move's allowed from-states (connect-outcome.ts).
 * The URL token and the OAuth state are stored only as SHA-256 hashes; the
 * state is single use (consumed by one conditional UPDATE), bound to its
 * session and to the browser that opened the link (connect-cookie.ts); the
 * PKCE verifier is sealed. A reconnect of the same account (integration, end
 * user, provider account id) updates its connection.
 */
const SESSION_TTL_MS = 10 * 60_000;

type ConnectSession = typeof connectSessions.$inferSelect;

export interface ConnectDeps {
  db: Db;
  sealer: Sealer;
  runtime: ProviderRuntime;
  publicUrl: string;
}

const failureReturn = (redirectUrl: string | null, code: ConnectOutcomeCode) =>
  redirectUrl ? returnUrl(redirectUrl, { status: 'error', code }) : undefined;

const hash = (value: string) => createHash('sha256').update(value).digest('base64url');

export async function createConnectSession(
  deps: ConnectDeps & { redirectPolicy: RedirectPolicy },
  input: { integration: string; endUserId: string; redirectUrl?: string },
): Promise<{ id: string; url: string; expiresAt: string }> {
  if (input.redirectUrl !== undefined) checkRedirectUrl(deps.redirectPolicy, input.redirectUrl);
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

/**
 * GET /connect/:token → the provider's authorize URL, with a fresh state and PKCE pair, and the
 * Set-Cookie header that binds them to this browser.
 */
export async function startAuthorization(
  deps: ConnectDeps,
  token: string,
): Promise<{ url: URL; setCookie: string }> {
  const [session] = await deps.db
    .select()
    .from(connectSessions)
    .where(eq(connectSessions.tokenHash, hash(token)));
  if (!session)
    throw new AppError('unknown_session', 'This connect link is not valid. Ask the app for a new one.');
  if (session.status === 'completed' || session.status === 'failed')
    throw new AppError('session_used', 'This connect link was already used. Start again from the app.');
  const now = deps.runtime.now();
  if (session.status === 'expired' || session.expiresAt.getTime() <= now.getTime()) {
    const message = 'This connect link has expired. Start again from the app.';
    await deps.db
      .update(connectSessions)
      .set({ status: 'expired', error: { code: 'session_expired', message }, updatedAt: now })
      .where(and(eq(connectSessions.id, session.id), movableTo('expired')));
    throw new AppError('session_expired', message, {
      returnTo: failureReturn(session.redirectUrl, 'session_expired'),
    });
  }
  const integration = await getIntegrationRow(deps.db, session.integrationKey);
  const ctx = integrationContext(deps.sealer, integration);
  const provider = getProvider(ctx.provider);
  const state = generateRandomState();
  const usePkce = provider.pkce && ctx.options.pkce !== false;
  const verifier = usePkce ? generateRandomCodeVerifier() : undefined;
  const binding = newBrowserBinding(
    deps.publicUrl,
    session.id,
    (session.expiresAt.getTime() - now.getTime()) / 1000,
  );
  const [started] = await deps.db
    .update(connectSessions)
    .set({
      status: 'authorizing',
      stateHash: hash(state),
      stateUsedAt: null,
      browserBindingHash: hash(binding.value),
      codeVerifierSealed: verifier
        ? deps.sealer.seal(verifier, sealContext.connectSessionCodeVerifier(session.id))
        : null,
      updatedAt: new Date(),
    })
    .where(and(eq(connectSessions.id, session.id), movableTo('authorizing')))
    .returning({ id: connectSessions.id });
  // Finished by another tab meanwhile.
  if (!started)
    throw new AppError('session_used', 'This connect link was already used. Start again from the app.');
  const url = await provider.authorizationUrl(ctx, {
    state,
    codeChallenge: verifier ? await calculatePKCECodeChallenge(verifier) : undefined,
    redirectUri: `${deps.publicUrl}/oauth/callback`,
    refreshTokenHeld: await holdsRefreshToken(deps, session.integrationKey, session.endUserId),
  });
  return { url, setCookie: binding.header };
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
  /** The app's redirectUrl with the outcome, when the session has one. */
  returnTo: string | undefined;
}

/**
 * GET /oauth/callback: consume the state, check the browser is the one that opened the link,
 * exchange the code, store the connection. onSession learns the session as soon as the state
 * names it (the route clears its cookie whatever the outcome).
 */
export async function completeAuthorization(
  deps: ConnectDeps,
  query: Record<string, string | undefined>,
  browser: { cookieHeader: string | undefined; onSession?: (sessionId: string) => void },
): Promise<CallbackResult> {
  const now = deps.runtime.now();
  const session = await consumeState(deps, query.state, now);
  browser.onSession?.(session.id);
  const fail = sessionFailure(deps, session, now);
  // Whoever finishes an authorize URL in a browser that did not open the connect link (the
  // link's owner sending it to a victim, a leaked URL) must not link that browser's account to
  // the session's end user. The page stays on tether: this browser's person is not the app's.
  const binding = readBrowserBinding(browser.cookieHeader, session.id);
  if (!binding || !session.browserBindingHash || !safeEqual(hash(binding), session.browserBindingHash))
    return fail(
      'browser_mismatch',
      'This sign-in was started in another browser, or this browser blocked its cookie. Nothing was connected; start again from the app in this browser.',
      { returnTo: false },
    );
  if (session.expiresAt.getTime() <= now.getTime())
    return fail(
      'session_expired',
      'This connect link expired before sign-in finished. Ask the app for a new one.',
    );
  const integration = await getIntegrationRow(deps.db, session.integrationKey);
  const ctx = integrationContext(deps.sealer, integration);
  const provider = getProvider(ctx.provider);
  const code = authorizationCode(query, provider);
  if ('failure' in code) return fail(code.failure, code.message);
  let account: ConnectedAccount;
  try {
    const tokens = await provider.exchangeCode(ctx, deps.runtime, {
      code: code.value,
      codeVerifier: session.codeVerifierSealed
        ? deps.sealer.open(session.codeVerifierSealed, sealContext.connectSessionCodeVerifier(session.id))
        : undefined,
      redirectUri: `${deps.publicUrl}/oauth/callback`,
    });
    account = await provider.afterConnect(ctx, deps.runtime, tokens);
  } catch (error) {
    const detail = error instanceof ProviderError ? ` (${error.providerCode ?? error.kind})` : '';
    return fail(
      'exchange_failed',
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
  await completeSession(deps, session, { connection, reconnected, provider, account }, now);
  return {
    connection,
    reconnected,
    warnings: account.warnings,
    returnTo: session.redirectUrl
      ? returnUrl(session.redirectUrl, { status: 'connected', connectionId: connection.id })
      : undefined,
  };
}

/** Takes the callback's state, once: the session it names, now past its state. */
async function consumeState(
  deps: ConnectDeps,
  state: string | undefined,
  now: Date,
): Promise<ConnectSession> {
  if (!state)
    throw new AppError('missing_state', 'The sign-in answer has no state; start again from the app.');
  const [session] = await deps.db
    .update(connectSessions)
    .set({ stateUsedAt: now, updatedAt: now })
    .where(
      and(
        eq(connectSessions.stateHash, hash(state)),
        isNull(connectSessions.stateUsedAt),
        eq(connectSessions.status, 'authorizing'),
      ),
    )
    .returning();
  if (session) return session;
  const [used] = await deps.db
    .select({ id: connectSessions.id })
    .from(connectSessions)
    .where(eq(connectSessions.stateHash, hash(state)));
  throw used
    ? new AppError('state_reused', 'This sign-in answer was already used. Start again from the app.')
    : new AppError('state_unknown', 'This sign-in answer does not belong to any connect session here.');
}

/** The provider's answer: the code, or why there is none (the person declined, an OAuth error). */
function authorizationCode(
  query: Record<string, string | undefined>,
  provider: ProviderDefinition,
): { value: string } | { failure: ConnectOutcomeCode; message: string } {
  if (query.error === 'access_denied')
    return {
      failure: 'access_denied',
      message: `You declined to connect ${provider.displayName}. Nothing was connected.`,
    };
  if (query.error)
    return {
      failure: 'provider_error',
      message: `${provider.displayName} answered with an error (${query.error.slice(0, 60)}). Nothing was connected.`,
    };
  if (!query.code)
    return {
      failure: 'missing_code',
      message: `${provider.displayName} sent no authorization code. Start again from the app.`,
    };
  return { value: query.code };
}

/**
 * Ends the session as failed (or expired) with its audit entry, then throws the outcome;
 * returnTo: false keeps the person on tether's page.
 */
function sessionFailure(deps: ConnectDeps, session: ConnectSession, now: Date) {
  return async (
    code: ConnectOutcomeCode,
    message: string,
    options: { returnTo: boolean } = { returnTo: true },
  ): Promise<never> => {
    const to = code === 'session_expired' ? 'expired' : 'failed';
    await deps.db.transaction(async (tx) => {
      await tx
        .update(connectSessions)
        .set({ status: to, error: { code, message }, codeVerifierSealed: null, updatedAt: now })
        .where(and(eq(connectSessions.id, session.id), movableTo(to)));
      await recordAudit(tx, {
        actor: 'end_user',
        action: 'connect_session.failed',
        subjectType: 'connect_session',
        subjectId: session.id,
        metadata: { reason: code, endUserId: session.endUserId },
      });
    });
    throw new AppError(code, message, {
      returnTo: options.returnTo ? failureReturn(session.redirectUrl, code) : undefined,
    });
  };
}

/** Ends the session as completed, with the connection's audit entry. */
async function completeSession(
  deps: ConnectDeps,
  session: ConnectSession,
  done: {
    connection: ConnectionRow;
    reconnected: boolean;
    provider: ProviderDefinition;
    account: ConnectedAccount;
  },
  now: Date,
) {
  await deps.db.transaction(async (tx) => {
    await tx
      .update(connectSessions)
      .set({
        status: 'completed',
        connectionId: done.connection.id,
        codeVerifierSealed: null,
        updatedAt: now,
      })
      .where(and(eq(connectSessions.id, session.id), movableTo('completed')));
    await recordAudit(tx, {
      actor: 'end_user',
      action: done.reconnected ? 'connection.reconnected' : 'connection.created',
      subjectType: 'connection',
      subjectId: done.connection.id,
      metadata: {
        provider: done.provider.name,
        integration: session.integrationKey,
        endUserId: session.endUserId,
        warnings: done.account.warnings,
      },
    });
  });
}

async function storeConnection(
  deps: ConnectDeps,
  integration: IntegrationRow,
  provider: ProviderDefinition,
  endUserId: string,
  account: ConnectedAccount,
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
      if (existing.status !== 'connected')
        await emitConnectionEvent(tx, 'connection.recovered', updated!, 'reconnected');
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
    await emitConnectionEvent(tx, 'connection.created', inserted!);
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
