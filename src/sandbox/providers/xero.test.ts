import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DAY, MINUTE } from '../clock.ts';
import {
  basicAuth,
  get,
  pkcePair,
  postForm,
  REDIRECT_URI,
  type SandboxFixture,
  startSandboxFixture,
  withQuery,
} from '../testing.ts';

const BASIC = { authorization: basicAuth('sandbox-xero-client', 'sandbox-xero-secret') };

describe('xero sandbox', () => {
  let sb: SandboxFixture;
  beforeAll(async () => {
    sb = await startSandboxFixture('xero-test');
  });
  afterAll(() => sb.server.close());
  beforeEach(() => sb.control.reset());

  const connect = async (
    scope = 'openid profile email accounting.transactions offline_access',
    extra = {},
  ) => {
    const consent = await sb.control.authorize(
      withQuery(sb.endpoints.xero.authorizationUrl, {
        client_id: 'sandbox-xero-client',
        redirect_uri: REDIRECT_URI,
        response_type: 'code',
        scope,
        state: 'x1',
        ...extra,
      }),
    );
    return consent;
  };
  const exchange = (code: string, extra: Record<string, string> = {}) =>
    postForm(
      sb.endpoints.xero.tokenUrl,
      { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, ...extra },
      BASIC,
    );
  const refresh = (token: string) =>
    postForm(sb.endpoints.xero.tokenUrl, { grant_type: 'refresh_token', refresh_token: token }, BASIC);

  it('runs authorize, exchange, rotating refresh with the 30-minute grace, and revocation', async () => {
    const consent = await connect();
    expect(consent.state).toBe('x1');
    const tokens = await exchange(consent.code!);
    expect(tokens.status).toBe(200);
    expect(tokens.body).toMatchObject({ token_type: 'Bearer', expires_in: 1800 });
    const r0 = tokens.body.refresh_token as string;

    const first = await refresh(r0);
    expect(first.status).toBe(200);
    const r1 = first.body.refresh_token as string;
    expect(r1).not.toBe(r0);

    await sb.control.advanceClock(29 * MINUTE);
    const retry = await refresh(r0);
    expect(retry.status).toBe(200);
    expect(retry.body.refresh_token).not.toBe(r1);

    await sb.control.advanceClock(2 * MINUTE);
    const late = await refresh(r0);
    expect(late.status).toBe(400);
    expect(late.body).toEqual({ error: 'invalid_grant' });
    // The successor issued by the rotation is unaffected.
    const fromR1 = await refresh(r1);
    expect(fromR1.status).toBe(200);

    const revoked = await postForm(
      sb.endpoints.xero.revocationUrl!,
      { token: fromR1.body.refresh_token },
      BASIC,
    );
    expect(revoked.status).toBe(200);
    expect((await refresh(fromR1.body.refresh_token)).body).toEqual({ error: 'invalid_grant' });
    const api = await get(sb.endpoints.xero.connectionsUrl!, {
      authorization: `Bearer ${fromR1.body.access_token}`,
    });
    expect(api.status).toBe(401);
  });

  it('rejects a rotated refresh token at once when the grace is configured off', async () => {
    await sb.control.configure('xero', { rotationGraceSec: 0 });
    const tokens = await exchange((await connect()).code!);
    expect((await refresh(tokens.body.refresh_token)).status).toBe(200);
    expect((await refresh(tokens.body.refresh_token)).body).toEqual({ error: 'invalid_grant' });
  });

  it('expires a refresh token left unused for 60 days', async () => {
    const tokens = await exchange((await connect()).code!);
    await sb.control.advanceClock(60 * DAY);
    expect((await refresh(tokens.body.refresh_token)).body).toEqual({ error: 'invalid_grant' });
  });

  it('gives no refresh token without the offline_access scope', async () => {
    const tokens = await exchange((await connect('openid accounting.transactions')).code!);
    expect(tokens.status).toBe(200);
    expect(tokens.body).not.toHaveProperty('refresh_token');
  });

  it('accepts client credentials only by HTTP Basic', async () => {
    const consent = await connect();
    const inBody = await postForm(sb.endpoints.xero.tokenUrl, {
      grant_type: 'authorization_code',
      code: consent.code!,
      redirect_uri: REDIRECT_URI,
      client_id: 'sandbox-xero-client',
      client_secret: 'sandbox-xero-secret',
    });
    expect(inBody.status).toBe(400);
    expect(inBody.body).toEqual({ error: 'invalid_client' });
  });

  it('checks PKCE and refuses a reused code', async () => {
    const pkce = pkcePair();
    const consent = await connect(undefined, {
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256',
    });
    expect((await exchange(consent.code!, { code_verifier: pkcePair().verifier })).body).toEqual({
      error: 'invalid_grant',
    });
    expect((await exchange(consent.code!, { code_verifier: pkce.verifier })).status).toBe(200);
    expect((await exchange(consent.code!, { code_verifier: pkce.verifier })).body).toEqual({
      error: 'invalid_grant',
    });
  });

  it('lists the tenants of the connection and serves the Organisation of a named tenant', async () => {
    const tokens = await exchange((await connect()).code!);
    const auth = { authorization: `Bearer ${tokens.body.access_token}` };
    const connections = await get(sb.endpoints.xero.connectionsUrl!, auth);
    expect(connections.status).toBe(200);
    expect(connections.body).toHaveLength(2);
    expect(connections.body[0]).toMatchObject({
      tenantType: 'ORGANISATION',
      tenantName: 'Demo Company (UK)',
    });
    expect(Object.keys(connections.body[0]).sort()).toEqual(
      [
        'authEventId',
        'createdDateUtc',
        'id',
        'tenantId',
        'tenantName',
        'tenantType',
        'updatedDateUtc',
      ].sort(),
    );

    const orgUrl = `${sb.endpoints.xero.apiBaseUrl}/api.xro/2.0/Organisation`;
    const noTenant = await get(orgUrl, auth);
    expect(noTenant.status).toBe(403);
    const org = await get(orgUrl, { ...auth, 'xero-tenant-id': connections.body[1].tenantId });
    expect(org.status).toBe(200);
    expect(org.body.Organisations[0]).toMatchObject({ Name: 'Demo Company (NZ)', BaseCurrency: 'NZD' });
    expect(org.headers.get('x-minlimit-remaining')).toMatch(/^\d+$/);

    const removed = await fetch(`${sb.endpoints.xero.connectionsUrl}/${connections.body[1].id}`, {
      method: 'DELETE',
      headers: auth,
    });
    expect(removed.status).toBe(204);
    expect((await get(sb.endpoints.xero.connectionsUrl!, auth)).body).toHaveLength(1);
  });

  it('answers 401 TokenExpired for an expired access token', async () => {
    const tokens = await exchange((await connect()).code!);
    await sb.control.advanceClock(1800_000);
    const expired = await get(sb.endpoints.xero.connectionsUrl!, {
      authorization: `Bearer ${tokens.body.access_token}`,
    });
    expect(expired.status).toBe(401);
    expect(expired.body).toMatchObject({ Title: 'Unauthorized', Status: 401 });
    expect(expired.body.Detail).toMatch(/^TokenExpired/);
  });

  it('answers 429 with Retry-After and X-Rate-Limit-Problem when rate limited', async () => {
    const tokens = await exchange((await connect()).code!);
    await sb.control.rateLimit({
      endpoint: 'xero.organisation',
      limit: 0,
      windowSec: 86_400,
      problem: 'day',
    });
    const connections = await get(sb.endpoints.xero.connectionsUrl!, {
      authorization: `Bearer ${tokens.body.access_token}`,
    });
    const limited = await get(`${sb.endpoints.xero.apiBaseUrl}/api.xro/2.0/Organisation`, {
      authorization: `Bearer ${tokens.body.access_token}`,
      'xero-tenant-id': connections.body[0].tenantId,
    });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('x-rate-limit-problem')).toBe('day');
    expect(Number(limited.headers.get('retry-after'))).toBe(86_400);
  });
});
