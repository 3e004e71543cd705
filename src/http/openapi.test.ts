import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestTether, type TestTether } from '../../test/harness/tether.ts';

// The OpenAPI document is the public surface's reference: it must say what tether does, lock what
// needs the key and nothing else, and document the statuses routes really answer.

interface Operation {
  tags?: string[];
  security?: Record<string, string[]>[];
  responses: Record<string, { description: string; content?: Record<string, { schema: unknown }> }>;
}
interface Document {
  info: { title: string; description: string };
  security?: unknown;
  tags: { name: string }[];
  components: { schemas: Record<string, unknown> };
  paths: Record<string, Record<string, Operation>>;
}

const PUBLIC_PATHS = [
  '/healthz',
  '/readyz',
  '/openapi.json',
  '/webhooks/{integrationKey}',
  '/connect/{token}',
  '/oauth/callback',
];
const SANDBOX_TAGS = ['sandbox', 'sandbox-control'];
const isSuccess = (status: string) => status === 'default' || /^[23]/.test(status);

describe('the OpenAPI document', () => {
  let t: TestTether;
  let doc: Document;
  let operations: { path: string; method: string; op: Operation }[];
  beforeAll(async () => {
    t = await startTestTether({ env: { TETHER_SANDBOX: '1' } });
    doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ path, method, op })),
    );
  });
  afterAll(() => t.close());

  const tethers = () => operations.filter(({ path }) => !path.startsWith('/sandbox/'));

  it('claims only what tether does: the syncs and the dashboard it names exist', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    expect(pkg.description).toEqual(expect.any(String));
    const help = execFileSync(process.execPath, [new URL('../main.ts', import.meta.url).pathname, 'help'], {
      encoding: 'utf8',
    });
    expect(help).toContain('serve');
    expect(help).toContain('syncs run');
    expect(doc.paths['/v1/connections/{id}/syncs']).toBeDefined();
    expect(doc.paths['/dashboard']).toBeDefined();
    const dashboard = await t.app.inject({ method: 'GET', url: '/dashboard' });
    expect(dashboard.statusCode).toBe(303);
  });

  it('asks for the API key on every /v1 route and /metrics, and on no public route', () => {
    expect(doc.security).toBeUndefined();
    for (const { path, method, op } of operations) {
      const guarded = path.startsWith('/v1/') || path === '/metrics';
      expect(op.security, `${method} ${path}`).toEqual(guarded ? [{ apiKey: [] }] : []);
    }
    const documented = new Set(operations.map(({ path }) => path));
    for (const path of PUBLIC_PATHS) expect(documented, path).toContain(path);
  });

  it('tags the sandbox and lists the API’s tags first', () => {
    const names = doc.tags.map((tag) => tag.name);
    expect(names.slice(-2)).toEqual(SANDBOX_TAGS);
    const sandbox = operations.filter(({ path }) => path.startsWith('/sandbox/'));
    expect(sandbox.length).toBeGreaterThan(50);
    for (const { path, method, op } of sandbox) {
      expect(op.tags, `${method} ${path}`).toEqual([
        path.startsWith('/sandbox/_control/') ? 'sandbox-control' : 'sandbox',
      ]);
    }
    for (const { path, method, op } of tethers()) {
      expect(op.tags?.length, `${method} ${path}`).toBe(1);
      expect(names, `${method} ${path}`).toContain(op.tags![0]);
      expect(SANDBOX_TAGS, `${method} ${path}`).not.toContain(op.tags![0]);
    }
  });

  it('documents a success and the one error shape for every route of tether’s', () => {
    expect(doc.components.schemas.Error).toMatchObject({
      type: 'object',
      properties: { error: { properties: { code: { type: 'string' }, message: { type: 'string' } } } },
    });
    for (const { path, method, op } of tethers()) {
      const statuses = Object.keys(op.responses);
      expect(statuses.some(isSuccess), `${method} ${path}`).toBe(true);
      expect(statuses, `${method} ${path}`).toContain('500');
      if (op.security?.length) expect(statuses, `${method} ${path}`).toContain('401');
      for (const status of statuses.filter((s) => /^[45]\d\d$/.test(s))) {
        if (path === '/readyz' && status === '503') continue; // readiness answers its checks
        const schema = op.responses[status]!.content?.['application/json']?.schema as
          | { $ref?: string; allOf?: { $ref?: string }[] }
          | undefined;
        // The Error component itself, or all of it (with the route's own examples beside it).
        expect(schema?.$ref ?? schema?.allOf?.[0]?.$ref, `${method} ${path} ${status}`).toBe(
          '#/components/schemas/Error',
        );
      }
    }
  });

  it('documents the statuses the routes really answer', async () => {
    const documented = (method: string, url: string): string[] => {
      const path = url.split('?')[0]!;
      const found = operations.find(
        (o) =>
          o.method === method.toLowerCase() &&
          new RegExp(`^${o.path.replace(/\{\*\}/g, '.+').replace(/\{[^}]+\}/g, '[^/]+')}$`).test(path),
      );
      expect(found, `${method} ${url} is documented`).toBeDefined();
      return Object.keys(found!.op.responses);
    };
    const integration = { key: 'docs-xero', provider: 'xero', clientId: 'id', clientSecret: 'secret' };
    const requests: { method: 'GET' | 'POST' | 'DELETE'; url: string; payload?: object; auth?: false }[] = [
      { method: 'GET', url: '/healthz' },
      { method: 'GET', url: '/readyz' },
      { method: 'GET', url: '/openapi.json' },
      { method: 'GET', url: '/metrics' },
      { method: 'GET', url: '/v1/audit', auth: false },
      { method: 'POST', url: '/v1/integrations', payload: integration },
      { method: 'POST', url: '/v1/integrations', payload: integration },
      { method: 'GET', url: '/v1/integrations?cursor=nonsense' },
      { method: 'GET', url: '/v1/integrations/docs-xero' },
      { method: 'DELETE', url: '/v1/integrations/docs-xero' },
      { method: 'DELETE', url: '/v1/integrations/docs-xero' },
      {
        method: 'POST',
        url: '/v1/connect-sessions',
        payload: { integration: 'sandbox-xero', endUserId: 'u' },
      },
      { method: 'GET', url: '/v1/connections?limit=0' },
      { method: 'GET', url: '/v1/events/wev_missing' },
      { method: 'POST', url: '/v1/events/wev_missing/replay' },
      { method: 'GET', url: '/v1/payments?cursor=nonsense' },
      { method: 'GET', url: '/v1/proxy/conn_missing/anything' },
      { method: 'POST', url: '/webhooks/no-such-source', payload: {} },
      { method: 'POST', url: '/webhooks/sandbox-stripe', payload: { id: 'evt_forged' } },
      { method: 'GET', url: '/connect/not-a-session-token' },
      { method: 'GET', url: '/oauth/callback?state=unknown&code=x' },
    ];
    const answered: string[] = [];
    for (const { method, url, payload, auth } of requests) {
      const res = await t.app.inject({ method, url, payload, headers: auth === false ? {} : t.auth });
      const status = String(res.statusCode);
      answered.push(`${method} ${url} ${status}`);
      const statuses = documented(method, url);
      const covered = statuses.includes(status) || statuses.includes(`${status[0]}XX`);
      expect(covered || (!/^[45]/.test(status) && statuses.includes('default')), answered.at(-1)).toBe(true);
    }
    // The requests above reach the answers they were written for.
    expect(answered).toEqual(
      expect.arrayContaining([
        'POST /v1/integrations 201',
        'POST /v1/integrations 409',
        'DELETE /v1/integrations/docs-xero 204',
        'DELETE /v1/integrations/docs-xero 404',
        'GET /v1/integrations?cursor=nonsense 400',
        'POST /v1/connect-sessions 201',
        'GET /v1/audit 401',
        'POST /webhooks/sandbox-stripe 401',
      ]),
    );
  });
});
