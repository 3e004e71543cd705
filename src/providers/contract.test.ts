import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SandboxControl, type SandboxServer, startSandboxServer } from '../sandbox/index.ts';
import type { SeededAccounts } from '../sandbox/seed.ts';
import {
  CONTRACT_CASES,
  type ContractCase,
  connectThroughSandbox,
  expectFailure,
  REDIRECT_URI,
  sandboxIntegration,
} from './contract-cases.ts';
import { getProvider } from './index.ts';
import type { IntegrationContext } from './provider.ts';
import { makeProviderRuntime } from './runtime.ts';

// The one suite every provider runs against its sandbox simulator: the whole connect → refresh →
// revoke life, and the failures the token lifecycle must tell apart. Provider quirks are in
// quirks.test.ts; the generic provider against a real OAuth server in oauth2.oidc-provider.test.ts.

let sandbox: SandboxServer;
let control: SandboxControl;
let accounts: SeededAccounts;
const rt = makeProviderRuntime({ timeoutMs: 2_000 });

beforeAll(async () => {
  sandbox = await startSandboxServer({ seed: 'provider-contract' });
  control = new SandboxControl(sandbox.url);
  accounts = await control.accounts();
});
afterAll(() => sandbox.close());

describe.each(CONTRACT_CASES.map((c) => [c.provider, c] as const))('%s', (_name, c: ContractCase) => {
  const definition = getProvider(c.provider);
  let ctx: IntegrationContext;

  beforeEach(async () => {
    await control.reset();
    await c.setup?.(control);
    ctx = sandboxIntegration(c, sandbox.url);
  });

  it('builds an authorize URL with the state, the client id, the scopes and PKCE where supported', () => {
    const url = definition.authorizationUrl(ctx, {
      state: 'state-123',
      codeChallenge: 'challenge-abc',
      redirectUri: REDIRECT_URI,
    });
    const query = url.searchParams;
    expect(query.get('state')).toBe('state-123');
    expect(query.get(c.clientIdParam)).toBe(ctx.clientId);
    expect(query.get('redirect_uri')).toBe(REDIRECT_URI);
    expect(query.get('response_type')).toBe('code');
    const scopes = (query.get('scope') ?? '').split(/[ ,]/);
    for (const scope of c.scopes) expect(scopes).toContain(scope);
    if (definition.pkce) {
      expect(query.get('code_challenge')).toBe('challenge-abc');
      expect(query.get('code_challenge_method')).toBe('S256');
    } else {
      expect(query.has('code_challenge')).toBe(false);
    }
  });

  it('connects, refreshes, revokes, and then calls the grant gone', async () => {
    const { account, connection, secrets } = await connectThroughSandbox(ctx, rt, control);
    expect(account.accountId).toBe(c.accountId(accounts));
    if (c.metadata) expect(account.metadata).toMatchObject(c.metadata(accounts));

    await c.beforeRefresh?.(control);
    const refreshed = await definition.refreshAccessToken(ctx, rt, connection);
    expect(refreshed.accessToken).not.toBe(connection.accessToken);
    if (c.refreshToken === 'rotated') {
      expect(refreshed.refreshToken).toEqual(expect.any(String));
      expect(refreshed.refreshToken).not.toBe(connection.refreshToken);
    } else if (c.refreshToken === 'kept') {
      expect(refreshed.refreshToken).toBeUndefined();
    } else {
      expect(refreshed.refreshToken).toBeNull();
    }
    const current = {
      ...connection,
      accessToken: refreshed.accessToken,
      refreshToken: refreshed.refreshToken ?? connection.refreshToken,
    };
    secrets.push(refreshed.accessToken, ...(refreshed.refreshToken ? [refreshed.refreshToken] : []));

    if (c.noRevoke) {
      expect(definition.revoke, c.noRevoke.reason).toBeUndefined();
      await c.noRevoke.revokeAtSandbox(control, current);
    } else {
      await definition.revoke!(ctx, rt, current);
    }
    const gone = await expectFailure(definition.refreshAccessToken(ctx, rt, current), 'permanent', secrets);
    expect(gone.provider).toBe(definition.displayName);
  });

  describe('a refresh that fails', () => {
    const connectAndAge = async () => {
      const connected = await connectThroughSandbox(ctx, rt, control);
      await c.beforeRefresh?.(control);
      return connected;
    };

    it('is transient when the token endpoint answers 500', async () => {
      const { connection, secrets } = await connectAndAge();
      await control.failNext(c.refreshKey, 500, { body: 'upstream broke' });
      const error = await expectFailure(
        definition.refreshAccessToken(ctx, rt, connection),
        'transient',
        secrets,
      );
      expect(error.status).toBe(500);
    });

    it('is transient when the connection drops', async () => {
      const { connection, secrets } = await connectAndAge();
      await control.drop(c.refreshKey, { times: 1 });
      const error = await expectFailure(
        definition.refreshAccessToken(ctx, rt, connection),
        'transient',
        secrets,
      );
      expect(error.providerCode).toBe('network_error');
    });

    it('is transient, within the runtime timeout, when the provider hangs', async () => {
      const { connection, secrets } = await connectAndAge();
      await control.hang(c.refreshKey, { times: 1 });
      const quick = makeProviderRuntime({ timeoutMs: 300 });
      const started = Date.now();
      const error = await expectFailure(
        definition.refreshAccessToken(ctx, quick, connection),
        'transient',
        secrets,
      );
      expect(error.providerCode).toBe('timeout');
      expect(Date.now() - started).toBeLessThan(2_000);
    });

    it('is transient with retryAfterSeconds when rate limited', async () => {
      const { connection, secrets } = await connectAndAge();
      await control.rateLimit({ endpoint: c.refreshKey, limit: 0, windowSec: 42 });
      const error = await expectFailure(
        definition.refreshAccessToken(ctx, rt, connection),
        'transient',
        secrets,
      );
      expect(error.status).toBe(429);
      expect(error.retryAfterSeconds).toBeGreaterThan(0);
      expect(error.retryAfterSeconds).toBeLessThanOrEqual(42);
    });

    it('leaves the grant alive after a transient failure', async () => {
      const { connection } = await connectAndAge();
      await control.failNext(c.refreshKey, 503);
      await expect(definition.refreshAccessToken(ctx, rt, connection)).rejects.toMatchObject({
        kind: 'transient',
      });
      await expect(definition.refreshAccessToken(ctx, rt, connection)).resolves.toMatchObject({
        accessToken: expect.any(String),
      });
    });
  });

  it('calls a wrong client secret a configuration error', async () => {
    const wrong = { ...ctx, clientSecret: 'definitely-not-the-secret' };
    const pkce = definition.pkce ? { codeChallenge: 'x'.repeat(43) } : {};
    const url = definition.authorizationUrl(wrong, { state: 's', redirectUri: REDIRECT_URI, ...pkce });
    url.searchParams.delete('code_challenge');
    url.searchParams.delete('code_challenge_method');
    const consent = await control.authorize(url.href);
    const error = await expectFailure(
      definition.exchangeCode(wrong, rt, { code: consent.code!, redirectUri: REDIRECT_URI }),
      'configuration',
      [wrong.clientSecret, ctx.clientSecret, consent.code!],
    );
    expect(error.provider).toBe(definition.displayName);
  });
});
