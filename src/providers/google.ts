import {
  apiBaseProxy,
  buildAuthorizationUrl,
  codeGrantParams,
  refreshGrantParams,
  requireEndpoint,
  scopesOf,
  stringField,
  tokenEndpointCall,
} from './common.ts';
import { gmailMessagesSync } from './gmail-sync.ts';
import { calendarEventsSync } from './google-calendar-sync.ts';
import { driveFilesSync } from './google-drive-sync.ts';
import { callProvider, requestTokenSet } from './oauth-http.ts';
import { type OAuthProviderName, type ProviderDefinition, ProviderError } from './provider.ts';
import { youtubeStatsSync } from './youtube-sync.ts';

/**
 * Google and its scoped variants (Gmail, Calendar, Drive, YouTube): one module, five names.
 * Quirks: a refresh token comes only with access_type=offline and only on the first consent (or
 * with prompt=consent, sent whenever tether holds no refresh token for the end user), so a
 * connect without one warns; refreshing never rotates it (the answer
 * has no refresh_token: keep the old one). The account is userinfo's `sub`, so `openid` is always
 * asked for. Revoking the refresh token ends the whole grant.
 */

const DAY = 86_400;
const USERINFO_SCOPES = ['openid', 'email'];

function makeGoogle(
  name: OAuthProviderName,
  displayName: string,
  apiBaseUrl: string,
  scopes: string[],
  syncs: ProviderDefinition['syncs'] = [],
): ProviderDefinition {
  const definition: ProviderDefinition = {
    name,
    displayName,
    defaultEndpoints: {
      authorizationUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
      tokenUrl: 'https://oauth2.googleapis.com/token',
      revocationUrl: 'https://oauth2.googleapis.com/revoke',
      userinfoUrl: 'https://openidconnect.googleapis.com/v1/userinfo',
      apiBaseUrl,
    },
    defaultScopes: [...USERINFO_SCOPES, ...scopes],
    pkce: true,
    // Unused refresh tokens lapse after six months.
    refresh: { strategy: 'expiry', rotates: false, idleLifetimeSeconds: 180 * DAY },

    authorizationUrl: (ctx, params) =>
      buildAuthorizationUrl(ctx, params, {
        scopes: scopesOf(ctx, definition.defaultScopes, ['openid']),
        pkce: true,
        extra: {
          access_type: 'offline',
          include_granted_scopes: 'true',
          // Without it, an account that consented to this client before (through another
          // integration, or a connection since wiped) comes back with no refresh token.
          ...(params.refreshTokenHeld ? {} : { prompt: 'consent' }),
        },
      }),

    exchangeCode: (ctx, rt, params) =>
      requestTokenSet(
        rt,
        tokenEndpointCall(ctx, displayName, 'code exchange', codeGrantParams(params), {
          auth: 'client_secret_post',
        }),
      ),

    async afterConnect(ctx, rt, tokens) {
      const userinfo = await callProvider(rt, {
        provider: displayName,
        operation: 'userinfo',
        url: requireEndpoint(ctx, 'userinfoUrl'),
        method: 'GET',
        bearer: tokens.accessToken,
      });
      const sub = stringField(userinfo, 'sub');
      if (!sub) throw new ProviderError('configuration', name, `${displayName} userinfo has no "sub"`);
      const warnings = tokens.refreshToken
        ? []
        : [
            `${displayName} gave no refresh token (the account had consented to this client before, and the authorize request did not ask for consent again), so this connection cannot renew its access token and needs reconnecting when it expires. tether sends prompt=consent when it holds no refresh token for the end user: check that the integration's extraAuthorizeParams does not set another "prompt", then have the end user connect again.`,
          ];
      return {
        tokens,
        accountId: sub,
        metadata: { email: stringField(userinfo, 'email') ?? null },
        warnings,
      };
    },

    async refreshAccessToken(ctx, rt, connection) {
      return requestTokenSet(
        rt,
        tokenEndpointCall(ctx, displayName, 'refresh', refreshGrantParams(ctx, connection), {
          auth: 'client_secret_post',
        }),
      );
    },

    async revoke(ctx, rt, connection) {
      // The token goes in the form body (Google also takes ?token=), out of URLs and logs.
      const token = connection.refreshToken ?? connection.accessToken;
      try {
        await callProvider(rt, {
          provider: displayName,
          operation: 'revocation',
          url: requireEndpoint(ctx, 'revocationUrl'),
          params: { token },
          allowEmpty: true,
        });
      } catch (error) {
        // invalid_token: already expired or revoked, which is what we wanted.
        if (error instanceof ProviderError && error.providerCode === 'invalid_token') return;
        throw error;
      }
    },

    syncs,

    proxy: apiBaseProxy(),
  };
  return definition;
}

const scope = (name: string) => `https://www.googleapis.com/auth/${name}`;

// `google` offers each API's sync when the integration asks for one of that API's scopes.
export const google = makeGoogle(
  'google',
  'Google',
  'https://www.googleapis.com',
  ['profile'],
  [gmailMessagesSync, calendarEventsSync, driveFilesSync, youtubeStatsSync],
);
export const gmail = makeGoogle(
  'gmail',
  'Gmail',
  'https://gmail.googleapis.com',
  [scope('gmail.readonly')],
  [gmailMessagesSync],
);
export const googleCalendar = makeGoogle(
  'google-calendar',
  'Google Calendar',
  'https://www.googleapis.com',
  [scope('calendar.readonly')],
  [calendarEventsSync],
);
export const googleDrive = makeGoogle(
  'google-drive',
  'Google Drive',
  'https://www.googleapis.com',
  [scope('drive.readonly')],
  [driveFilesSync],
);
export const youtube = makeGoogle(
  'youtube',
  'YouTube',
  'https://www.googleapis.com',
  [scope('youtube.readonly')],
  [youtubeStatsSync],
);
