import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestTether, type TestTether } from '../../test/harness/tether.ts';
import { registeredRoutes } from './route-inventory.ts';

// PostgreSQL cannot store U+0000: a request carrying it anywhere tether reads (a path parameter,
// the query, a JSON or form body) is the caller's mistake, answered 400, never a database error
// rendered as a 500. Every route is tried, so a route added later is covered too.

type Operation = {
  parameters?: { name: string; in: string }[];
  requestBody?: {
    content: Record<string, { example?: unknown; examples?: Record<string, { value: unknown }> }>;
  };
};

/** Each copy of `value` with one of its strings turned into one holding U+0000. */
function withNulInEachString(value: unknown): unknown[] {
  if (typeof value === 'string') return [`${value}\u0000`];
  if (Array.isArray(value)) {
    return value.flatMap((item, i) => withNulInEachString(item).map((v) => value.with(i, v)));
  }
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([key, item]) =>
      withNulInEachString(item).map((v) => ({ ...value, [key]: v })),
    );
  }
  return [];
}

describe('a request holding U+0000', () => {
  let t: TestTether;
  let doc: { paths: Record<string, Record<string, Operation>> };
  beforeAll(async () => {
    t = await startTestTether({ env: { TETHER_SANDBOX: '1' } });
    doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
  });
  afterAll(() => t.close());

  const send = (method: string, url: string, payload?: unknown, contentType?: string) =>
    t.app.inject({
      method: method as 'GET',
      url,
      headers: { ...t.auth, ...(contentType ? { 'content-type': contentType } : {}) },
      ...(payload === undefined ? {} : { payload: payload as string }),
    });

  it('is refused in a path parameter of every route, naming the parameter', async () => {
    const withParams = registeredRoutes(t.app).filter((r) => r.method !== 'HEAD' && /[:*]/.test(r.url));
    expect(withParams.length).toBeGreaterThan(40);
    for (const route of withParams) {
      const url = route.url.replace(/:[A-Za-z0-9_]+|\*$/g, 'x%00');
      const res = await send(route.method, url);
      expect(res.statusCode, `${route.method} ${route.url}: ${res.body}`).toBeLessThan(500);
      if (url.startsWith('/v1/')) {
        expect(res.statusCode, `${route.method} ${route.url}`).toBe(400);
        expect(res.json().error).toEqual({
          code: 'validation_failed',
          message: expect.stringMatching(/^Invalid params\.\S+: must not contain U\+0000 \(NUL\)\.$/),
        });
      }
    }
  });

  it('is refused in every documented query parameter', async () => {
    let tried = 0;
    for (const [path, ops] of Object.entries(doc.paths)) {
      if (path.includes('{')) continue; // the parameter test above covers these routes
      for (const [method, op] of Object.entries(ops)) {
        for (const parameter of (op.parameters ?? []).filter((p) => p.in === 'query')) {
          const res = await send(method, `${path}?${parameter.name}=a%00`);
          expect(res.statusCode, `${method} ${path}?${parameter.name}: ${res.body}`).toBe(400);
          expect(res.json().error.code).toBe('validation_failed');
          tried++;
        }
      }
    }
    expect(tried).toBeGreaterThan(20);
  });

  it('is refused in any string of the documented request bodies, as in a field name', async () => {
    let tried = 0;
    for (const [path, ops] of Object.entries(doc.paths)) {
      const url = path.replace(/\{[^}]+\}/g, 'nope');
      for (const [method, op] of Object.entries(ops)) {
        const media = op.requestBody?.content['application/json'];
        const examples = media?.examples
          ? Object.values(media.examples).map((e) => e.value)
          : media?.example
            ? [media.example]
            : [];
        for (const body of examples.flatMap(withNulInEachString)) {
          const res = await send(method, url, JSON.stringify(body), 'application/json');
          expect(res.statusCode, `${method} ${path} ${JSON.stringify(body)}: ${res.body}`).toBe(400);
          expect(res.json().error.message).toMatch(/^Invalid body\.\S+: must not contain U\+0000/);
          tried++;
        }
      }
    }
    expect(tried).toBeGreaterThan(10);

    const named = await send(
      'POST',
      '/v1/event-subscriptions',
      '{"url":"http://x.test","events":["*"],"a\\u0000b":1}',
      'application/json',
    );
    expect(named.json().error).toEqual({
      code: 'validation_failed',
      message: 'Invalid body.a\\u0000b: must not contain U+0000 (NUL).',
    });
  });

  it('is refused in a form body and in a webhook URL; an escaped %2500 is plain text', async () => {
    const form = await send(
      'POST',
      '/v1/connect-sessions',
      'integration=sandbox-xero&endUserId=a%00',
      'application/x-www-form-urlencoded',
    );
    expect(form.statusCode).toBe(400);
    expect(form.json().error.message).toBe('Invalid body.endUserId: must not contain U+0000 (NUL).');

    const webhook = await t.app.inject({ method: 'POST', url: '/webhooks/x%00', payload: '{}' });
    expect(webhook.statusCode).toBe(400);

    const literal = await send('GET', '/v1/connections/x%2500');
    expect(literal.statusCode).toBe(404);
    const listed = await send('GET', '/v1/connections?endUserId=a%2500');
    expect(listed.statusCode).toBe(200);
  });
});
