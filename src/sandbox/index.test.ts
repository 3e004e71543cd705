import formbody from '@fastify/formbody';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { OAUTH_PROVIDERS } from '../providers/index.ts';
import {
  makeSandboxState,
  sandboxEndpoints,
  sandboxIntegrationSeeds,
  sandboxPlugin,
  simulatorOf,
} from './index.ts';
import { SANDBOX_PROVIDER_MODULES } from './providers/index.ts';
import { SANDBOX_PROVIDERS } from './settings.ts';

// The plugin as tether mounts it: inside a host app that already parses form bodies, under
// the '/sandbox' prefix, driven with inject().

describe('sandboxPlugin inside a host app', () => {
  const state = makeSandboxState({ seed: 'plugin-test' });
  const app = Fastify();
  beforeAll(async () => {
    await app.register(formbody);
    app.get('/healthz', async () => ({ ok: true }));
    await app.register(sandboxPlugin, { prefix: '/sandbox', state });
    await app.ready();
  });
  afterAll(() => app.close());

  it('serves the providers under /sandbox next to the host routes', async () => {
    expect((await app.inject('/healthz')).statusCode).toBe(200);
    const page = await app.inject(
      '/sandbox/google/o/oauth2/v2/auth?client_id=sandbox-google-client&redirect_uri=http://127.0.0.1:9/cb&response_type=code',
    );
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).toContain('action="/sandbox/google/o/oauth2/v2/auth"');
  });

  it("takes a form-encoded token request through the host app's form parser", async () => {
    const answer = await app.inject({
      method: 'POST',
      url: '/sandbox/google/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload:
        'grant_type=refresh_token&refresh_token=nope&client_id=sandbox-google-client&client_secret=sandbox-google-secret',
    });
    expect(answer.statusCode).toBe(400);
    expect(answer.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('leaves host routes out of the fault hook', async () => {
    state.faults.add({ endpoint: '*', action: { kind: 'respond', status: 500 }, times: 1 });
    expect((await app.inject('/healthz')).statusCode).toBe(200);
    expect((await app.inject('/sandbox/google/oauth2/v3/userinfo')).statusCode).toBe(500);
  });

  it("covers the webhook senders' routes with the same hook", async () => {
    state.calls.reset();
    state.faults.add({ endpoint: 'google.jwks', action: { kind: 'respond', status: 503 }, times: 1 });
    expect((await app.inject('/sandbox/google/oauth2/v3/certs')).statusCode).toBe(503);
    expect((await app.inject('/sandbox/google/oauth2/v3/certs')).statusCode).toBe(200);
    expect(state.calls.count('google.jwks')).toBe(2);
  });

  it('answers an unparseable body with an OAuth-style 400, not a 500', async () => {
    const answer = await app.inject({
      method: 'POST',
      url: '/sandbox/notion/v1/oauth/token',
      headers: { 'content-type': 'application/json' },
      payload: '{not json',
    });
    expect(answer.statusCode).toBe(400);
    expect(answer.json()).toMatchObject({ error: 'invalid_request' });
  });
});

describe('sandboxEndpoints', () => {
  it('gives every provider its URLs under the base', () => {
    const endpoints = sandboxEndpoints('http://127.0.0.1:3000/sandbox/');
    expect(Object.keys(endpoints).sort()).toEqual([...SANDBOX_PROVIDERS].sort());
    expect(endpoints.xero.tokenUrl).toBe('http://127.0.0.1:3000/sandbox/xero/identity/connect/token');
    for (const provider of SANDBOX_PROVIDERS) {
      expect(endpoints[provider].authorizationUrl).toMatch(/^http:\/\/127\.0\.0\.1:3000\/sandbox\//);
      expect(endpoints[provider].apiBaseUrl).toMatch(/^http:\/\/127\.0\.0\.1:3000\/sandbox\//);
    }
  });
});

describe('closing a host app', () => {
  it('does not wait for a connection held by a hang fault', async () => {
    const state = makeSandboxState({ seed: 'close-test' });
    const host = Fastify({ forceCloseConnections: 'idle' });
    await host.register(sandboxPlugin, { prefix: '/sandbox', state });
    const origin = await host.listen({ host: '127.0.0.1', port: 0 });
    state.faults.add({ endpoint: 'google.userinfo', action: { kind: 'hang' } });
    const pending = fetch(`${origin}/sandbox/google/oauth2/v3/userinfo`).catch((error: unknown) => error);
    // Under load the request may take more than a moment to arrive: wait until it hangs.
    await vi.waitFor(() => expect(state.hung.size).toBe(1), { timeout: 5_000, interval: 20 });
    const started = performance.now();
    await host.close();
    expect(performance.now() - started).toBeLessThan(2000);
    expect(await pending).toBeInstanceOf(TypeError);
  });
});

describe('the sandbox modules', () => {
  it('simulate every tether provider exactly once, and seed one integration for each', () => {
    const simulated = SANDBOX_PROVIDER_MODULES.flatMap((module) => module.simulates);
    expect([...simulated].sort()).toEqual([...OAUTH_PROVIDERS].sort());
    const seeds = sandboxIntegrationSeeds('http://127.0.0.1:9/sandbox');
    expect(seeds.map((seed) => seed.key).sort()).toEqual(OAUTH_PROVIDERS.map((p) => `sandbox-${p}`).sort());
    for (const seed of seeds) {
      expect(seed.endpoints.tokenUrl).toMatch(
        new RegExp(`^http://127\\.0\\.0\\.1:9/sandbox/${simulatorOf(seed.provider)}/`),
      );
    }
  });

  it('have settings for each simulator, and nothing else', () => {
    expect(SANDBOX_PROVIDER_MODULES.map((module) => module.name).sort()).toEqual(
      [...SANDBOX_PROVIDERS].sort(),
    );
  });
});
