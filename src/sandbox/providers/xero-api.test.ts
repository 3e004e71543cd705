import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  basicAuth,
  get,
  type Loose,
  postForm,
  REDIRECT_URI,
  type SandboxFixture,
  startSandboxFixture,
  withQuery,
} from '../testing.ts';
import { xeroLimitKey } from './xero-api.ts';

const BASIC = { authorization: basicAuth('sandbox-xero-client', 'sandbox-xero-secret') };

describe('xero invoices sandbox', () => {
  let sb: SandboxFixture;
  let token: string;
  let tenants: { tenantId: string }[];
  let url: string;
  beforeAll(async () => {
    sb = await startSandboxFixture('xero-api-test');
    url = `${sb.endpoints.xero.apiBaseUrl}/api.xro/2.0/Invoices`;
  });
  afterAll(() => sb.server.close());
  beforeEach(async () => {
    await sb.control.reset();
    const consent = await sb.control.authorize(
      withQuery(sb.endpoints.xero.authorizationUrl, {
        client_id: 'sandbox-xero-client',
        redirect_uri: REDIRECT_URI,
        response_type: 'code',
        scope: 'openid accounting.transactions offline_access',
        state: 's',
      }),
    );
    const tokens = await postForm(
      sb.endpoints.xero.tokenUrl,
      { grant_type: 'authorization_code', code: consent.code!, redirect_uri: REDIRECT_URI },
      BASIC,
    );
    token = tokens.body.access_token;
    tenants = (await sb.control.accounts()).xero[0]!.tenants;
  });

  const call = (query: string, headers: Record<string, string> = {}, tenant = tenants[0]!.tenantId) =>
    get(`${url}${query}`, { authorization: `Bearer ${token}`, 'xero-tenant-id': tenant, ...headers });
  const size = (count: number, extra: Record<string, unknown> = {}) =>
    sb.control.sizeDataset('xero', 'invoices', {
      account: tenants[0]!.tenantId,
      count,
      seed: 'i1',
      ...extra,
    });

  it('pages 100 invoices at a time in Xero dates until a short page', async () => {
    await size(250);
    const pages: Loose[][] = [];
    for (let page = 1; page <= 3; page++) pages.push((await call(`?page=${page}`)).body.Invoices);
    expect(pages.map((p) => p.length)).toEqual([100, 100, 50]);
    const all = pages.flat();
    expect(new Set(all.map((i) => i.InvoiceID)).size).toBe(250);
    expect(all[0]).toMatchObject({
      Type: expect.stringMatching(/^ACC(REC|PAY)$/),
      Status: expect.stringMatching(/^(DRAFT|SUBMITTED|AUTHORISED|PAID)$/),
      UpdatedDateUTC: expect.stringMatching(/^\/Date\(\d+\+0000\)\/$/),
      CurrencyCode: 'GBP',
    });
    expect((await call('?page=4')).body.Invoices).toEqual([]);
    // The same (seed, index) gives the same invoice.
    expect((await call('?page=1')).body.Invoices).toEqual(pages[0]);
    // Another tenant of the same connection has its own (empty) dataset.
    expect((await call('?page=1', {}, tenants[1]!.tenantId)).body.Invoices).toEqual([]);
  });

  it('answers If-Modified-Since with what changed after it, removed invoices as DELETED or VOIDED', async () => {
    await size(300);
    const newest = (await call('?page=3&order=UpdatedDateUTC')).body.Invoices.at(-1);
    const mark = Number(/\d+/.exec(newest.UpdatedDateUTC)![0]);
    await sb.control.advanceClock(5000);
    await sb.control.changeDataset('xero', 'invoices', {
      account: tenants[0]!.tenantId,
      added: 3,
      updated: 4,
      deleted: 5,
      seed: 'c1',
    });
    const since = new Date(mark).toISOString().slice(0, 19);
    const changed = (await call('?page=1&order=UpdatedDateUTC', { 'if-modified-since': since })).body
      .Invoices;
    expect(changed).toHaveLength(12);
    const removed = changed.filter((i: Loose) => ['DELETED', 'VOIDED'].includes(i.Status));
    expect(removed).toHaveLength(5);
    const times = changed.map((i: Loose) => Number(/\d+/.exec(i.UpdatedDateUTC)![0]));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(times.every((t: number) => t > mark)).toBe(true);
    // Without If-Modified-Since DELETED invoices are not listed (VOIDED ones are).
    const deleted = removed.filter((i: Loose) => i.Status === 'DELETED').length;
    const everything: Loose[] = [];
    for (let page = 1; page <= 4; page++) everything.push(...(await call(`?page=${page}`)).body.Invoices);
    expect(everything).toHaveLength(303 - deleted);
    // IDs= finds invoices by id.
    const byId = await call(`?IDs=${changed[0].InvoiceID},${changed[1].InvoiceID}`);
    expect(byId.body.Invoices.map((i: Loose) => i.InvoiceID)).toEqual([
      changed[0].InvoiceID,
      changed[1].InvoiceID,
    ]);
  });

  it('sends malformed invoices every malformedEvery', async () => {
    await size(20, { malformedEvery: 10 });
    const invoices = (await call('?page=1')).body.Invoices;
    expect(invoices.filter((i: Loose) => i.Total === 'lots').map((i: Loose) => invoices.indexOf(i))).toEqual([
      9, 19,
    ]);
  });

  it('refuses a missing or foreign tenant, a bad token and a bad page', async () => {
    expect((await call('?page=1', {}, 'not-a-tenant')).status).toBe(403);
    expect((await call('?page=1', { authorization: 'Bearer nope' })).status).toBe(401);
    const bad = await call('?page=0');
    expect(bad.status).toBe(400);
    expect(bad.body.Type).toBe('ValidationException');
  });

  it('allows 60 calls a minute per tenant, then 429 with Retry-After and X-Rate-Limit-Problem: minute', async () => {
    await size(1);
    for (let i = 0; i < 60; i++) expect((await call('?page=1')).status).toBe(200);
    const limited = await call('?page=1');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('x-rate-limit-problem')).toBe('minute');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another tenant has its own minute.
    expect((await call('?page=1', {}, tenants[1]!.tenantId)).status).toBe(200);
    await sb.control.advanceClock(61_000);
    expect((await call('?page=1')).status).toBe(200);
  });

  it('holds at most 5 calls in progress per tenant, refusing the 6th with X-Rate-Limit-Problem: concurrent', async () => {
    await size(1);
    await sb.control.latency('xero.invoices', 300);
    const answers = await Promise.all(Array.from({ length: 8 }, () => call('?page=1')));
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);
    const refused = answers.find((a) => a.status === 429)!;
    expect(refused.headers.get('x-rate-limit-problem')).toBe('concurrent');
    // The peak counts arrivals: the 6th call came while 5 were in progress.
    expect(sb.server.state.keyedLimits.peak(xeroLimitKey(tenants[0]!.tenantId))).toBe(6);
    expect(sb.server.state.keyedLimits.refused(xeroLimitKey(tenants[0]!.tenantId))).toBe(3);
  });
});
