import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DAY } from '../clock.ts';
import {
  basicAuth,
  get,
  postForm,
  REDIRECT_URI,
  type SandboxFixture,
  startSandboxFixture,
  withQuery,
} from '../testing.ts';

const BASIC = { authorization: basicAuth('sandbox-docusign-client', 'sandbox-docusign-secret') };

describe('docusign sandbox', () => {
  let sb: SandboxFixture;
  beforeAll(async () => {
    sb = await startSandboxFixture('docusign-test');
  });
  afterAll(() => sb.server.close());
  beforeEach(() => sb.control.reset());

  const connect = async () => {
    const consent = await sb.control.authorize(
      withQuery(sb.endpoints.docusign.authorizationUrl, {
        client_id: 'sandbox-docusign-client',
        redirect_uri: REDIRECT_URI,
        response_type: 'code',
        scope: 'signature extended',
        state: 'd1',
      }),
    );
    return postForm(
      sb.endpoints.docusign.tokenUrl,
      { grant_type: 'authorization_code', code: consent.code!, redirect_uri: REDIRECT_URI },
      BASIC,
    );
  };
  const refresh = (token: string) =>
    postForm(sb.endpoints.docusign.tokenUrl, { grant_type: 'refresh_token', refresh_token: token }, BASIC);

  it('runs authorize, exchange, rotating refresh and revocation by the control API', async () => {
    const tokens = await connect();
    expect(tokens.status).toBe(200);
    expect(tokens.body).toMatchObject({ token_type: 'Bearer', expires_in: 28_800 });
    expect(tokens.body.refresh_token).toEqual(expect.any(String));

    const next = await refresh(tokens.body.refresh_token);
    expect(next.status).toBe(200);
    expect(next.body.refresh_token).not.toBe(tokens.body.refresh_token);
    const old = await refresh(tokens.body.refresh_token);
    expect(old.status).toBe(400);
    expect(old.body).toEqual({ error: 'invalid_grant' });

    await sb.control.revoke({ refreshToken: next.body.refresh_token });
    expect((await refresh(next.body.refresh_token)).body).toEqual({ error: 'invalid_grant' });
    const api = await get(sb.endpoints.docusign.userinfoUrl!, {
      authorization: `Bearer ${next.body.access_token}`,
    });
    expect(api.status).toBe(401);
  });

  it('keeps the old refresh token working when configured to reissue', async () => {
    await sb.control.configure('docusign', { rotation: 'reissue' });
    const tokens = await connect();
    expect((await refresh(tokens.body.refresh_token)).status).toBe(200);
    expect((await refresh(tokens.body.refresh_token)).status).toBe(200);
  });

  it('expires refresh tokens after 30 days', async () => {
    const tokens = await connect();
    await sb.control.advanceClock(30 * DAY);
    expect((await refresh(tokens.body.refresh_token)).body).toEqual({ error: 'invalid_grant' });
  });

  it('lists accounts with a base_uri that serves the REST API', async () => {
    const tokens = await connect();
    const auth = { authorization: `Bearer ${tokens.body.access_token}` };
    const info = await get(sb.endpoints.docusign.userinfoUrl!, auth);
    expect(info.status).toBe(200);
    expect(info.body.email).toBe('ada@example.com');
    const main = info.body.accounts.find((a: { is_default: boolean }) => a.is_default);
    expect(main.base_uri).toBe(`${sb.server.url}/docusign`);
    const account = await get(`${main.base_uri}/restapi/v2.1/accounts/${main.account_id}`, auth);
    expect(account.status).toBe(200);
    expect(account.body.accountIdGuid).toBe(main.account_id);
  });

  it('answers 401 USER_AUTHENTICATION_FAILED for an expired token and 429 with limit headers', async () => {
    const tokens = await connect();
    const auth = { authorization: `Bearer ${tokens.body.access_token}` };
    const info = await get(sb.endpoints.docusign.userinfoUrl!, auth);
    const url = `${sb.endpoints.docusign.apiBaseUrl}/v2.1/accounts/${info.body.accounts[0].account_id}`;

    await sb.control.rateLimit({ endpoint: 'docusign.account', limit: 1, windowSec: 3600 });
    expect((await get(url, auth)).status).toBe(200);
    const limited = await get(url, auth);
    expect(limited.status).toBe(429);
    expect(limited.body.errorCode).toBe('HOURLY_APIINVOCATION_LIMIT_EXCEEDED');
    expect(limited.headers.get('x-ratelimit-remaining')).toBe('0');
    await sb.control.clearRateLimits();

    await sb.control.advanceClock(28_800_000);
    const expired = await get(url, auth);
    expect(expired.status).toBe(401);
    expect(expired.body.errorCode).toBe('USER_AUTHENTICATION_FAILED');
  });

  it('accepts client credentials only by HTTP Basic', async () => {
    const consent = await sb.control.authorize(
      withQuery(sb.endpoints.docusign.authorizationUrl, {
        client_id: 'sandbox-docusign-client',
        redirect_uri: REDIRECT_URI,
        response_type: 'code',
      }),
    );
    const inBody = await postForm(sb.endpoints.docusign.tokenUrl, {
      grant_type: 'authorization_code',
      code: consent.code!,
      redirect_uri: REDIRECT_URI,
      client_id: 'sandbox-docusign-client',
      client_secret: 'sandbox-docusign-secret',
    });
    expect(inBody.status).toBe(401);
    expect(inBody.body.error).toBe('invalid_client');
  });
});
