import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
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

const BASIC = { authorization: basicAuth('sandbox-oauth2-client', 'sandbox-oauth2-secret') };

describe('generic oauth2 sandbox', () => {
  let sb: SandboxFixture;
  beforeAll(async () => {
    sb = await startSandboxFixture('oauth2-test');
  });
  afterAll(() => sb.server.close());
  beforeEach(() => sb.control.reset());

  it('runs a spec-shaped authorize, PKCE exchange, rotating refresh, RFC 7009 revoke round trip', async () => {
    const pkce = pkcePair();
    const consent = await sb.control.authorize(
      withQuery(sb.endpoints.oauth2.authorizationUrl, {
        client_id: 'sandbox-oauth2-client',
        redirect_uri: REDIRECT_URI,
        response_type: 'code',
        scope: 'read write',
        state: 'g1',
        code_challenge: pkce.challenge,
        code_challenge_method: 'S256',
      }),
      { account: 'grace@example.com' },
    );
    const exchange = (verifier: string) =>
      postForm(
        sb.endpoints.oauth2.tokenUrl,
        {
          grant_type: 'authorization_code',
          code: consent.code!,
          redirect_uri: REDIRECT_URI,
          code_verifier: verifier,
        },
        BASIC,
      );
    expect((await exchange(pkcePair().verifier)).body).toEqual({
      error: 'invalid_grant',
      error_description: 'Invalid code verifier.',
    });
    const tokens = await exchange(pkce.verifier);
    expect(tokens.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'read write' });

    const refresh = (token: string) =>
      postForm(sb.endpoints.oauth2.tokenUrl, { grant_type: 'refresh_token', refresh_token: token }, BASIC);
    const next = await refresh(tokens.body.refresh_token);
    expect(next.status).toBe(200);
    expect((await refresh(tokens.body.refresh_token)).body.error).toBe('invalid_grant');

    const auth = { authorization: `Bearer ${next.body.access_token}` };
    expect((await get(`${sb.endpoints.oauth2.apiBaseUrl}/me`, auth)).body).toMatchObject({
      email: 'grace@example.com',
    });
    expect(
      (await postForm(sb.endpoints.oauth2.revocationUrl!, { token: next.body.refresh_token }, BASIC)).status,
    ).toBe(200);
    const after = await get(sb.endpoints.oauth2.userinfoUrl!, auth);
    expect(after.status).toBe(401);
    expect(after.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('answers unsupported_grant_type and invalid_client as the RFC says', async () => {
    const grant = await postForm(sb.endpoints.oauth2.tokenUrl, { grant_type: 'password' }, BASIC);
    expect([grant.status, grant.body.error]).toEqual([400, 'unsupported_grant_type']);
    const client = await postForm(
      sb.endpoints.oauth2.tokenUrl,
      { grant_type: 'refresh_token', refresh_token: 'x' },
      {
        authorization: basicAuth('sandbox-oauth2-client', 'wrong'),
      },
    );
    expect([client.status, client.body.error]).toEqual([401, 'invalid_client']);
  });

  it('expires authorization codes after ten minutes and enforces registered redirect URIs', async () => {
    const url = withQuery(sb.endpoints.oauth2.authorizationUrl, {
      client_id: 'sandbox-oauth2-client',
      redirect_uri: REDIRECT_URI,
      response_type: 'code',
    });
    const { code } = await sb.control.authorize(url);
    await sb.control.advanceClock(600_000);
    const late = await postForm(
      sb.endpoints.oauth2.tokenUrl,
      { grant_type: 'authorization_code', code: code!, redirect_uri: REDIRECT_URI },
      BASIC,
    );
    expect(late.body).toMatchObject({
      error: 'invalid_grant',
      error_description: 'The authorization code has expired.',
    });

    await sb.control.registerClient({
      provider: 'oauth2',
      clientId: 'strict',
      clientSecret: 'strict-secret',
      redirectUris: ['http://127.0.0.1:9/only'],
    });
    const page = await fetch(withQuery(url, { client_id: 'strict' }), { redirect: 'manual' });
    expect(page.status).toBe(400);
    expect(await page.text()).toContain('redirect_uri_mismatch');
  });
});
