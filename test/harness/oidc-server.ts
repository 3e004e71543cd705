import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';
import type { TokenEndpointAuthMethod } from '../../src/providers/provider.ts';

// A real OAuth 2.0 / OpenID Connect server that nobody here wrote: panva's oidc-provider, on
// 127.0.0.1, with PKCE required, rotating refresh tokens (a replayed one is invalid_grant) and
// RFC 7009 revocation. The person's login and consent are played by an interaction route of
// our own (the documented interactionDetails → interactionFinished API), reached over HTTP with
// the server's cookies, as a browser would: consent() is that browser.

export interface OidcClient {
  id: string;
  secret: string;
}

export interface OidcServer {
  issuer: string;
  /** The account every login signs in as; it is the `sub` of userinfo and id tokens. */
  account: string;
  /** One registered client per token endpoint authentication method. */
  clients: Record<TokenEndpointAuthMethod, OidcClient>;
  /**
   * Opens the authorize URL and follows the server's redirects (login, consent) with its
   * cookies until one leads to a URL starting with `redirectUriPrefix`; returns that URL (the
   * code and state, or the error, are in its query).
   */
  consent(authorizeUrl: URL | string, redirectUriPrefix: string): Promise<URL>;
  /** RFC 7009: revokes a token as the client of `method`. Revoking a refresh token ends its grant. */
  revoke(token: string, method: TokenEndpointAuthMethod): Promise<void>;
  /** A refresh_token grant at the token endpoint as the client of `method`, answered raw. */
  refresh(refreshToken: string, method: TokenEndpointAuthMethod): Promise<{ status: number; body: unknown }>;
  close(): Promise<void>;
}

const CLIENTS: Record<TokenEndpointAuthMethod, OidcClient> = {
  client_secret_basic: { id: 'basic-client', secret: 'basic-client-secret-0123456789abcdef' },
  client_secret_post: { id: 'post-client', secret: 'post-client-secret-0123456789abcdef' },
};

export async function startOidcServer(options: {
  redirectUris: string[];
  account?: string;
}): Promise<OidcServer> {
  const account = options.account ?? 'user-ada';
  let provider: Provider | undefined;
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/interaction/')) void interact(provider!, account, req, res);
    else provider!.callback()(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  provider = new Provider(issuer, {
    clients: Object.entries(CLIENTS).map(([method, client]) => ({
      client_id: client.id,
      client_secret: client.secret,
      redirect_uris: options.redirectUris,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: method,
      id_token_signed_response_alg: 'ES256',
    })),
    jwks: { keys: [{ ...(await exportJWK(privateKey)), kid: 'test', use: 'sig', alg: 'ES256' }] },
    cookies: { keys: ['oidc-provider-test-cookie-key'] },
    pkce: { required: () => true },
    rotateRefreshToken: true,
    issueRefreshToken: async () => true,
    features: {
      revocation: {
        enabled: true,
        allowedPolicy: async (_ctx: unknown, client: { clientId: string }, token: { clientId: string }) =>
          token.clientId === client.clientId,
      },
      devInteractions: { enabled: false },
    },
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 60,
      IdToken: 3600,
      RefreshToken: 86_400,
      Grant: 86_400,
      Session: 86_400,
      Interaction: 600,
    },
    claims: { openid: ['sub'], email: ['email'] },
    findAccount: async (_ctx: unknown, sub: string) => ({
      accountId: sub,
      claims: async () => ({ sub, email: `${sub}@example.com` }),
    }),
  });

  const asClient = (method: TokenEndpointAuthMethod, params: Record<string, string>) => {
    const { id, secret } = CLIENTS[method];
    const body = new URLSearchParams(params);
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (method === 'client_secret_basic') {
      headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
    } else {
      body.set('client_id', id);
      body.set('client_secret', secret);
    }
    return { headers, body };
  };

  return {
    issuer,
    account,
    clients: CLIENTS,
    consent: (authorizeUrl, redirectUriPrefix) =>
      followToRedirectUri(new URL(authorizeUrl), redirectUriPrefix),
    async revoke(token, method) {
      const response = await fetch(`${issuer}/token/revocation`, {
        method: 'POST',
        ...asClient(method, { token }),
      });
      if (response.status !== 200) {
        throw new Error(`oidc-provider revocation answered ${response.status}: ${await response.text()}`);
      }
    },
    async refresh(refreshToken, method) {
      const response = await fetch(`${issuer}/token`, {
        method: 'POST',
        ...asClient(method, { grant_type: 'refresh_token', refresh_token: refreshToken }),
      });
      return { status: response.status, body: await response.json() };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The login and consent pages: the person is `account` and approves what the client asked for. */
async function interact(provider: Provider, account: string, req: IncomingMessage, res: ServerResponse) {
  try {
    const details = await provider.interactionDetails(req, res);
    const grant =
      (details.grantId ? await provider.Grant.find(details.grantId) : undefined) ??
      new provider.Grant({ accountId: account, clientId: String(details.params.client_id) });
    grant.addOIDCScope(String(details.params.scope ?? 'openid'));
    const grantId = await grant.save();
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId: account }, consent: { grantId } },
      { mergeWithLastSubmission: false },
    );
  } catch (error) {
    res.statusCode = 500;
    res.end(String(error));
  }
}

/** A browser in miniature: follows redirects with the server's cookies until it reaches the redirect URI. */
async function followToRedirectUri(start: URL, redirectUriPrefix: string): Promise<URL> {
  const cookies = new Map<string, string>();
  let url = start;
  for (let hop = 0; hop < 10; hop++) {
    const cookie = [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair!.indexOf('=');
      cookies.set(pair!.slice(0, at), pair!.slice(at + 1));
    }
    const location = response.headers.get('location');
    if (!location) throw new Error(`oidc-provider answered ${response.status}: ${await response.text()}`);
    url = new URL(location, url);
    if (url.href.startsWith(redirectUriPrefix)) return url;
  }
  throw new Error('Too many redirects');
}
