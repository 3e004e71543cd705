import type { FastifyInstance } from 'fastify';
import { mailboxOf } from '../datasets/kinds.ts';
import { bearerToken, readParams, send } from '../http.ts';
import { registerAuthorize } from '../oauth/authorize.ts';
import { checkAccessToken } from '../oauth/bearer.ts';
import type { TokenFailureReason } from '../oauth/token-errors.ts';
import { processTokenRequest, type TokenQuirks } from '../oauth/token-flow.ts';
import { oauthErrorReply, standardTokenBody } from '../oauth/token-response.ts';
import { endpoint } from '../route-config.ts';
import type { SandboxState } from '../state.ts';
import { registerGmailRoutes } from './gmail.ts';
import { registerGmailWatchRoutes } from './gmail-watch.ts';
import { fullSyncRequired, registerCalendarRoutes } from './google-calendar.ts';
import { registerDriveRoutes } from './google-drive.ts';
import { googleRateLimited, UNAUTHENTICATED, WWW_AUTHENTICATE } from './google-errors.ts';
import type { SandboxProviderModule } from './provider.ts';
import { registerYoutubeRoutes } from './youtube.ts';

// Google: accounts.google.com/o/oauth2/v2/auth, oauth2.googleapis.com/token and /revoke,
// www.googleapis.com/oauth2/v3/userinfo, gmail.googleapis.com/gmail/v1/users/me/profile.
// Quirks: a refresh token only on consent with access_type=offline, and only the first time
// unless prompt=consent; refreshing never rotates it (no refresh_token in the response).

const DESCRIPTIONS: Partial<Record<TokenFailureReason, string>> = {
  client_unknown: 'The OAuth client was not found.',
  code_unknown: 'Malformed auth code.',
  code_used: 'Bad Request',
  code_expired: 'Bad Request',
  code_client_mismatch: 'Bad Request',
  redirect_mismatch: 'Bad Request',
  refresh_unknown: 'Bad Request',
  refresh_expired: 'Token has been expired or revoked.',
  refresh_revoked: 'Token has been expired or revoked.',
  refresh_reused: 'Token has been expired or revoked.',
  refresh_client_mismatch: 'Unauthorized',
  code_missing: 'Missing required parameter: code',
  refresh_missing: 'Missing required parameter: refresh_token',
};

const quirks: TokenQuirks = {
  provider: 'google',
  clientAuth: { basic: true, body: true },
  prefixes: () => ({ access: 'ya29.a0', refresh: '1//0' }),
  reuseGrant: true,
  refreshOnExchange({ code, grant, settings, state }) {
    if (!settings.refreshTokens || code.params.access_type !== 'offline') return false;
    const forced = (code.params.prompt ?? '').split(' ').includes('consent');
    return forced || !state.grants.refreshTokensOf(grant.id).some((t) => t.revokedAt === null);
  },
};

function routes(app: FastifyInstance, state: SandboxState) {
  registerAuthorize(app, state, '/o/oauth2/v2/auth', {
    provider: 'google',
    brand: 'Sign in with Google',
    pkce: true,
    codePrefix: '4/0A',
    choices: (s) => s.accounts.google.map((u) => ({ id: u.sub, label: u.email })),
  });

  app.post('/token', endpoint('google.token'), async (request, reply) => {
    const outcome = processTokenRequest(state, request, readParams(request.body), quirks);
    if (!outcome.ok) {
      const { failure } = outcome;
      // Google names a redirect mismatch at the token endpoint with its own error code.
      const extra = failure.reason === 'redirect_mismatch' ? { error: 'redirect_uri_mismatch' } : {};
      return send(reply, oauthErrorReply(failure, DESCRIPTIONS, extra));
    }
    return reply.header('cache-control', 'no-store').send(standardTokenBody(outcome));
  });

  app.post('/revoke', endpoint('google.revoke'), async (request, reply) => {
    const token = readParams(request.query).token ?? readParams(request.body).token;
    const now = state.clock.now();
    const found = token ? (state.grants.access(token) ?? state.grants.refresh(token)) : undefined;
    const grant = found && state.grants.get(found.grantId);
    if (!found || !grant || grant.provider !== 'google' || grant.revokedAt !== null) {
      return reply.code(400).send({ error: 'invalid_token', error_description: 'Token expired or revoked' });
    }
    state.grants.revoke(grant.id, now);
    return reply.send({});
  });

  app.get('/oauth2/v3/userinfo', endpoint('google.userinfo'), async (request, reply) => {
    const check = checkAccessToken(state, 'google', bearerToken(request));
    if (!check.ok) {
      return send(reply, {
        status: 401,
        headers: { 'www-authenticate': WWW_AUTHENTICATE },
        body: { error: 'invalid_request', error_description: 'Invalid Credentials' },
      });
    }
    const user = state.accounts.google.find((u) => u.sub === check.grant.accountId);
    if (!user) return reply.code(404).send({ error: 'not_found' });
    return reply.send({
      sub: user.sub,
      name: user.name,
      given_name: user.givenName,
      family_name: user.familyName,
      picture: `https://lh3.googleusercontent.com/a/sandbox-${user.sub}=s96-c`,
      email: user.email,
      email_verified: true,
    });
  });

  app.get('/gmail/v1/users/:userId/profile', endpoint('google.gmail.profile'), async (request, reply) => {
    const check = checkAccessToken(state, 'google', bearerToken(request));
    if (!check.ok) {
      return send(reply, {
        status: 401,
        headers: { 'www-authenticate': WWW_AUTHENTICATE },
        body: UNAUTHENTICATED,
      });
    }
    const user = state.accounts.google.find((u) => u.sub === check.grant.accountId);
    const { userId } = request.params as { userId: string };
    if (!user || (userId !== 'me' && userId !== user.email)) {
      return reply.code(403).send({
        error: {
          code: 403,
          message: `Delegation denied for ${user?.email}`,
          errors: [{ message: 'Delegation denied', domain: 'global', reason: 'forbidden' }],
          status: 'PERMISSION_DENIED',
        },
      });
    }
    const mailbox = mailboxOf(state, user.sub);
    return reply.send({
      emailAddress: user.email,
      messagesTotal: mailbox?.live() ?? 42,
      threadsTotal: mailbox ? Math.ceil(mailbox.live() / 3) : 37,
      historyId: mailbox ? String(mailbox.historyId()) : '1048576',
    });
  });

  registerGmailRoutes(app, state);
  registerGmailWatchRoutes(app, state);
  registerCalendarRoutes(app, state);
  registerDriveRoutes(app, state);
  registerYoutubeRoutes(app, state);
}

export const google: SandboxProviderModule = {
  name: 'google',
  simulates: ['google', 'gmail', 'google-calendar', 'google-drive', 'youtube'],
  routes,
  rateLimited: googleRateLimited,
  endpoints: (base) => ({
    authorizationUrl: `${base}/google/o/oauth2/v2/auth`,
    tokenUrl: `${base}/google/token`,
    revocationUrl: `${base}/google/revoke`,
    userinfoUrl: `${base}/google/oauth2/v3/userinfo`,
    apiBaseUrl: `${base}/google`,
  }),
  faultPresets: {
    // The next events.list answers 410 as for an expired sync token: the client must sync in full.
    calendar_sync_token_expired: {
      endpoint: 'google.calendar.events.list',
      action: { kind: 'respond', ...fullSyncRequired() },
    },
    invalid_rapt: {
      endpoint: 'google.token',
      action: {
        kind: 'respond',
        status: 400,
        body: {
          error: 'invalid_grant',
          error_description: 'reauth related error (invalid_rapt)',
          error_uri: 'https://support.google.com/a/answer/9368756',
          error_subtype: 'invalid_rapt',
        },
      },
    },
    admin_policy_enforced: {
      endpoint: 'google.token',
      action: {
        kind: 'respond',
        status: 400,
        body: {
          error: 'admin_policy_enforced',
          error_description: 'Access to this app is blocked by an administrator.',
        },
      },
    },
    deleted_client: {
      endpoint: 'google.token',
      action: {
        kind: 'respond',
        status: 401,
        body: { error: 'deleted_client', error_description: 'The OAuth client was deleted.' },
      },
    },
  },
};
