import { validate } from '@readme/openapi-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestTether, type TestTether } from '../../test/harness/tether.ts';
import { registeredRoutes } from './route-inventory.ts';

// The document is checked by an OpenAPI 3.1 validator nobody here wrote, and against the routes
// the server really registered: a route that is neither documented nor hidden on purpose fails.

/** Registered but not API operations: Fastify's HEAD twins, the docs page's assets, dashboard pages. */
const NOT_OPERATIONS = [/^HEAD /, /^GET \/docs(\/|$)/, /^(GET|POST) \/dashboard\/.+/];

describe('the OpenAPI document, validated', () => {
  let t: TestTether;
  let doc: { openapi: string; paths: Record<string, Record<string, unknown>> };
  beforeAll(async () => {
    t = await startTestTether({ env: { TETHER_SANDBOX: '1' } });
    doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
  });
  afterAll(() => t.close());

  it('is a valid OpenAPI 3.1 document', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const result = await validate(structuredClone(doc) as never);
    expect(
      result.valid,
      JSON.stringify('errors' in result ? result.errors : [], null, 1).slice(0, 2000),
    ).toBe(true);
  });

  it('gives an example of each error a route answers, and of the main request bodies', () => {
    type Media = { example?: unknown; examples?: Record<string, { value: unknown }> };
    const examplesOf = (media: Media | undefined) =>
      media?.examples
        ? Object.values(media.examples).map((e) => e.value)
        : media?.example
          ? [media.example]
          : [];
    type Operation = {
      requestBody?: { content: Record<string, Media> };
      responses?: Record<string, { description: string; content?: Record<string, Media> }>;
    };
    let checked = 0;
    for (const [path, ops] of Object.entries(doc.paths)) {
      if (path.startsWith('/sandbox/')) continue;
      for (const op of Object.values(ops) as Operation[]) {
        for (const [status, response] of Object.entries(op.responses ?? {})) {
          if (!/^[45]\d\d$/.test(status)) continue;
          const codes = [...response.description.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]);
          if (codes.length === 0) continue; // an HTML page (connect), described in words
          const examples = examplesOf(response.content?.['application/json']) as {
            error: { code: string };
          }[];
          expect(
            examples.map((e) => e.error.code),
            `${path} ${status}`,
          ).toEqual(codes);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(100);
    for (const path of ['/v1/integrations', '/v1/connect-sessions', '/v1/event-subscriptions']) {
      const op = (doc.paths[path] as Record<string, Operation>).post;
      expect(examplesOf(op?.requestBody?.content['application/json']).length, path).toBeGreaterThan(0);
    }
  });

  it('lists every registered route', () => {
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
      ),
    );
    // Fastify writes `/v1/connections/:id`, OpenAPI `/v1/connections/{id}`; a wildcard is `{*}`.
    const openApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/\*$/, '{*}');
    const missing = registeredRoutes(t.app)
      .map((route) => `${route.method} ${openApiPath(route.url)}`)
      .filter((route) => !NOT_OPERATIONS.some((pattern) => pattern.test(route)))
      .filter((route) => !documented.has(route));
    expect(registeredRoutes(t.app).length).toBeGreaterThan(100);
    expect(missing).toEqual([]);
  });
});
