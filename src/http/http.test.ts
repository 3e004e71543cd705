import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestTether, type TestTether } from '../../test/harness/tether.ts';

describe('the HTTP server', () => {
  let t: TestTether;
  beforeAll(async () => {
    t = await startTestTether({
      env: { TETHER_BODY_LIMIT_BYTES: '4096' },
      publicPlugins: [
        async (app) => {
          app.post('/test/echo', async (request) => ({ got: request.body }));
          app.get('/test/boom', async () => {
            throw new Error('internal detail with sk_live_secret');
          });
        },
      ],
    });
  });
  afterAll(() => t.close());

  describe('API key', () => {
    it('refuses a request without a key', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/v1/audit' });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
    });

    it('refuses a wrong key, including one that is a prefix of the right one', async () => {
      for (const authorization of [
        'Bearer wrong',
        `${t.auth.authorization.slice(0, -1)}`,
        'Basic abc',
        'Bearer ',
      ]) {
        const res = await t.app.inject({ method: 'GET', url: '/v1/audit', headers: { authorization } });
        expect(res.statusCode, authorization).toBe(401);
      }
    });

    it('lets the right key through', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/v1/audit', headers: t.auth });
      expect(res.statusCode).toBe(200);
    });

    it('leaves health, readiness and the OpenAPI document open', async () => {
      expect((await t.app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
      const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(200);
      expect(ready.json()).toEqual({ status: 'ready', checks: { database: 'ok', jobs: 'ok' } });
      const doc = await t.app.inject({ method: 'GET', url: '/openapi.json' });
      expect(doc.json().paths['/v1/audit']).toBeDefined();
      expect((await t.app.inject({ method: 'GET', url: '/docs' })).statusCode).toBeLessThan(400);
    });
  });

  describe('client mistakes', () => {
    it('answers 413 payload_too_large for a body over the limit', async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/test/echo',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ big: 'x'.repeat(5000) }),
      });
      expect(res.statusCode).toBe(413);
      expect(res.json().error.code).toBe('payload_too_large');
    });

    it('answers 400 invalid_json for malformed JSON', async () => {
      for (const payload of ['{bad', '{"a":', '[1,2', '']) {
        const res = await t.app.inject({
          method: 'POST',
          url: '/test/echo',
          headers: { 'content-type': 'application/json' },
          payload,
        });
        expect(res.statusCode, payload).toBe(400);
        expect(res.json().error.code).toBe('invalid_json');
      }
    });

    it('answers 404 not_found for unknown routes', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/no/such/route' });
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe('not_found');
    });

    it('answers 400 validation_failed for a bad query and 400 invalid_cursor for a bad cursor', async () => {
      for (const url of ['/v1/audit?limit=abc', '/v1/audit?limit=0']) {
        const res = await t.app.inject({ method: 'GET', url, headers: t.auth });
        expect(res.statusCode, url).toBe(400);
        expect(res.json().error.code).toBe('validation_failed');
      }
      const res = await t.app.inject({ method: 'GET', url: '/v1/audit?cursor=nonsense', headers: t.auth });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('invalid_cursor');
    });

    it('answers 415 for a content type it does not parse', async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/test/echo',
        headers: { 'content-type': 'application/x-unknown' },
        payload: 'x',
      });
      expect(res.statusCode).toBe(415);
    });

    it('never answers 5xx to random bodies, headers and content types', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('/test/echo', '/v1/audit', '/healthz', '/nowhere'),
          fc.constantFrom('POST', 'GET', 'PUT', 'DELETE'),
          fc.constantFrom(
            'application/json',
            'text/plain',
            'application/x-www-form-urlencoded',
            'application/octet-stream',
            'garbage/',
          ),
          fc.oneof(
            fc.string(),
            fc.json(),
            fc.uint8Array({ maxLength: 6000 }).map((b) => Buffer.from(b)),
          ),
          fc.boolean(),
          async (url, method, contentType, payload, withKey) => {
            const res = await t.app.inject({
              method: method as 'POST',
              url,
              headers: { 'content-type': contentType, ...(withKey ? t.auth : {}) },
              payload,
            });
            expect(res.statusCode).toBeLessThan(500);
          },
        ),
        { numRuns: 150 },
      );
    });

    it('hides internals of its own faults behind a generic 500', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/test/boom' });
      expect(res.statusCode).toBe(500);
      expect(res.json()).toEqual({ error: { code: 'internal_error', message: expect.any(String) } });
      expect(res.body).not.toContain('sk_live_secret');
    });
  });

  describe('request ids and logs', () => {
    it('echoes a sane x-request-id and makes one otherwise', async () => {
      const given = await t.app.inject({
        method: 'GET',
        url: '/healthz',
        headers: { 'x-request-id': 'req-123' },
      });
      expect(given.headers['x-request-id']).toBe('req-123');
      const made = await t.app.inject({
        method: 'GET',
        url: '/healthz',
        headers: { 'x-request-id': 'bad id\u0001' },
      });
      expect(made.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('never writes the API key, cookies or secret query values to the log', async () => {
      const secretQuery =
        'code=authcode_should_not_leak&state=state_should_not_leak&access_token=tok_should_not_leak';
      await t.app.inject({
        method: 'GET',
        url: `/v1/audit?${secretQuery}`,
        headers: { ...t.auth, cookie: 'session=cookie_should_not_leak' },
      });
      await t.app.inject({
        method: 'GET',
        url: '/v1/audit',
        headers: { authorization: 'Bearer wrong_key_should_not_leak' },
      });
      t.app.log.info(
        { connection: { accessToken: 'at_should_not_leak', refresh_token: 'rt_should_not_leak', id: 7 } },
        'x',
      );
      const logs = t.logs.text();
      expect(logs).toContain('/v1/audit');
      for (const secret of [
        t.auth.authorization.slice(7),
        'authcode_',
        'state_should',
        'tok_should',
        'cookie_should',
        'wrong_key',
        'at_should',
        'rt_should',
      ]) {
        expect(logs).not.toContain(secret);
      }
    });
  });
});
