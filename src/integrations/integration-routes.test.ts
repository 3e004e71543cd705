import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestTether, type TestTether } from '../../test/harness/tether.ts';
import { integrations } from '../db/schema.ts';

describe('integrations API', () => {
  let t: TestTether;
  beforeAll(async () => {
    t = await startTestTether();
  });
  afterAll(() => t.close());

  const post = (payload: unknown) =>
    t.app.inject({ method: 'POST', url: '/v1/integrations', headers: t.auth, payload: payload as object });

  it('creates an integration and never returns its secret', async () => {
    const res = await post({
      key: 'xero-main',
      provider: 'xero',
      clientId: 'cid',
      clientSecret: 'super-secret-value',
      scopes: ['offline_access'],
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      key: 'xero-main',
      provider: 'xero',
      clientId: 'cid',
      hasClientSecret: true,
      redirectUri: 'http://127.0.0.1:0/oauth/callback',
    });
    expect(res.body).not.toContain('super-secret-value');
    const [row] = await t.database.db.select().from(integrations).where(eq(integrations.key, 'xero-main'));
    expect(row!.clientSecretSealed).not.toContain('super-secret-value');
    for (const url of ['/v1/integrations', '/v1/integrations/xero-main']) {
      expect((await t.app.inject({ method: 'GET', url, headers: t.auth })).body).not.toContain(
        'super-secret-value',
      );
    }
  });

  it('creates a generic oauth2 integration without endpoints.apiBaseUrl, for an app that only wants tokens', async () => {
    const res = await post({
      key: 'tokens-only',
      provider: 'oauth2',
      clientId: 'x',
      clientSecret: 'y',
      endpoints: { authorizationUrl: 'https://idp.example/authorize', tokenUrl: 'https://idp.example/token' },
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().endpoints).not.toHaveProperty('apiBaseUrl');
  });

  it('keeps webhook secrets write-only and gives the webhook URL', async () => {
    const res = await post({ key: 'stripe', provider: 'stripe', webhookSecrets: ['whsec_one', 'whsec_two'] });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      webhookSecretsCount: 2,
      webhookUrl: 'http://127.0.0.1:0/webhooks/stripe',
    });
    expect(res.body).not.toContain('whsec_');
  });

  it.each([
    [{ key: 'a', provider: 'nope', clientId: 'x', clientSecret: 'y' }, 'provider'],
    [{ key: 'Bad Key', provider: 'xero', clientId: 'x', clientSecret: 'y' }, 'key'],
    [{ key: 'b', provider: 'xero', clientId: 'x' }, 'clientSecret'],
    [
      {
        key: 'c',
        provider: 'oauth2',
        clientId: 'x',
        clientSecret: 'y',
        endpoints: { tokenUrl: 'https://idp.example/token' },
      },
      'authorizationUrl',
    ],
    [
      {
        key: 'd',
        provider: 'oauth2',
        clientId: 'x',
        clientSecret: 'y',
        endpoints: { tokenUrl: 'javascript:alert(1)' },
      },
      'endpoints',
    ],
    [{ key: 'e', provider: 'stripe' }, 'webhookSecrets'],
    [{ key: 'f', provider: 'paypal' }, 'webhookId'],
  ])('refuses %j with a 400 naming %s', async (payload, field) => {
    const res = await post(payload);
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('validation_failed');
    expect(res.json().error.message).toContain(field);
  });

  it('answers 409 for a duplicate key and 404 for an unknown one', async () => {
    await post({ key: 'dup', provider: 'notion', clientId: 'x', clientSecret: 'y' });
    expect(
      (await post({ key: 'dup', provider: 'notion', clientId: 'x', clientSecret: 'y' })).statusCode,
    ).toBe(409);
    expect(
      (await t.app.inject({ method: 'GET', url: '/v1/integrations/missing', headers: t.auth })).statusCode,
    ).toBe(404);
    expect(
      (
        await t.app.inject({
          method: 'PATCH',
          url: '/v1/integrations/missing',
          headers: t.auth,
          payload: { clientId: 'x' },
        })
      ).statusCode,
    ).toBe(404);
  });

  it('changes and deletes an integration, with audit entries', async () => {
    await post({ key: 'tiktok', provider: 'tiktok', clientId: 'x', clientSecret: 'y' });
    const patched = await t.app.inject({
      method: 'PATCH',
      url: '/v1/integrations/tiktok',
      headers: t.auth,
      payload: { scopes: ['user.info.basic'], refreshMarginSeconds: 600 },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({
      scopes: ['user.info.basic'],
      options: { refreshMarginSeconds: 600 },
      hasClientSecret: true,
    });
    expect(
      (await t.app.inject({ method: 'DELETE', url: '/v1/integrations/tiktok', headers: t.auth })).statusCode,
    ).toBe(204);
    expect(
      (await t.app.inject({ method: 'GET', url: '/v1/integrations/tiktok', headers: t.auth })).statusCode,
    ).toBe(404);
    const audit = (
      await t.app.inject({ method: 'GET', url: '/v1/audit?subjectId=tiktok', headers: t.auth })
    ).json();
    expect(audit.items.map((i: { action: string }) => i.action)).toEqual([
      'integration.deleted',
      'integration.updated',
      'integration.created',
    ]);
  });
});
