import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { recordSetOf } from '../src/sandbox/datasets/record-set-kinds.ts';
import type { SandboxControl, SandboxServer } from '../src/sandbox/index.ts';
import { renderInvoice, xeroLimitKey } from '../src/sandbox/providers/xero-api.ts';
import type { XeroTenant } from '../src/sandbox/seed.ts';
import { connectThroughSandbox, createSandboxIntegration, startSandbox } from './harness/sandbox-connect.ts';
import { liveRecords, readAll, runSlicesInParallel, runToEnd } from './harness/syncs.ts';
import { startTestTether, type TestTether } from './harness/tether.ts';

// The Xero invoices sync end to end against the sandbox's generated invoices, per tenant: after
// every run the live records equal the tenants' invoices (DELETED ones as tombstones), and the
// provider's limits (60 calls a minute, 5 in progress per tenant) are kept or waited out.

const SYNC = 'xero-invoices';

let t: TestTether;
let sandbox: { server: SandboxServer; control: SandboxControl; close: () => Promise<void> };
let ada: { id: string; tenants: XeroTenant[] };
let grace: { id: string; tenants: XeroTenant[] };
let n = 0;

beforeAll(async () => {
  sandbox = await startSandbox();
  t = await startTestTether();
  for (const key of ['xero', 'xero-parallel'])
    await createSandboxIntegration(t, sandbox.server.url, { key, provider: 'xero' });
  const users = (await sandbox.control.accounts()).xero;
  ada = users[0]!;
  grace = users[1]!;
});
afterAll(async () => {
  await t?.close();
  await sandbox?.close();
});
beforeEach(async () => {
  await sandbox.control.clearFaults();
});

async function size(tenant: XeroTenant, count: number, extra: { malformedEvery?: number } = {}) {
  await sandbox.control.sizeDataset('xero', 'invoices', {
    account: tenant.tenantId,
    count,
    seed: `seed-${++n}`,
    ...extra,
  });
}

async function connect(integration = 'xero', account = ada.id): Promise<string> {
  const { connectionId, status, body } = await connectThroughSandbox(t, sandbox.control, {
    integration,
    endUserId: `user-${++n}`,
    account,
  });
  expect(status, body).toBe(200);
  return connectionId!;
}

/** The tenants' invoices as the records should hold them: id → status@updatedAt, DELETED left out. */
function invoices(...tenants: XeroTenant[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const tenant of tenants) {
    const set = recordSetOf(sandbox.server.state, 'xero', 'invoices', tenant.tenantId);
    for (let index = 0; set && index < set.size(); index++) {
      const invoice = renderInvoice(set, tenant.baseCurrency, set.state(index)) as unknown as Record<
        string,
        string
      >;
      const ms = Number(/\d+/.exec(invoice.UpdatedDateUTC!)![0]);
      if (invoice.Status !== 'DELETED')
        out[invoice.InvoiceID!] = `${invoice.Status}@${new Date(ms).toISOString()}`;
    }
  }
  return out;
}
const records = (id: string) => liveRecords(t, id, 'invoices', (d) => `${d.status}@${d.updatedAt}`);

describe('Xero invoices sync', () => {
  it('copies every tenant in full, then only what changed since the high-water mark, DELETED as tombstones', async () => {
    const [uk, nz] = ada.tenants as [XeroTenant, XeroTenant];
    await size(uk, 250);
    await size(nz, 40);
    const id = await connect();
    const calls = await sandbox.control.callCount('xero.invoices');
    const full = await runToEnd(t, id, SYNC);
    expect(full).toMatchObject({ status: 'succeeded', imported: 290, failed: 0, error: null });
    expect(await records(id)).toEqual(invoices(uk, nz));
    // UK: pages of 100, 100, 50; NZ: one short page.
    expect((await sandbox.control.callCount('xero.invoices')) - calls).toBe(4);
    const { cursor } = await readAll(t, id, 'invoices');

    await sandbox.control.advanceClock(2000);
    await sandbox.control.changeDataset('xero', 'invoices', {
      account: uk.tenantId,
      added: 5,
      updated: 3,
      deleted: 6,
      seed: 'c1',
    });
    const before = await sandbox.control.callCount('xero.invoices');
    const incremental = await runToEnd(t, id, SYNC);
    // One short page per tenant: only the changes since the mark came back.
    expect((await sandbox.control.callCount('xero.invoices')) - before).toBe(2);
    expect(await records(id)).toEqual(invoices(uk, nz));
    const changes = (await readAll(t, id, 'invoices', cursor)).items;
    const tombstones = changes.filter((c) => c.lastAction === 'deleted');
    const voided = changes.filter((c) => c.data.status === 'VOIDED');
    expect(tombstones.length + voided.length).toBe(6);
    expect(incremental).toMatchObject({
      status: 'succeeded',
      imported: 5,
      updated: 3 + voided.length,
      deleted: tombstones.length,
    });
    const again = await runToEnd(t, id, SYNC);
    expect(again).toMatchObject({ status: 'succeeded', imported: 0, updated: 0, deleted: 0 });
  });

  it('stores the good invoices beside malformed ones, and imports those once fixed', async () => {
    const [uk, nz] = ada.tenants as [XeroTenant, XeroTenant];
    await size(uk, 200, { malformedEvery: 40 });
    const seed = `seed-${n}`;
    await size(nz, 0);
    const id = await connect();
    const partial = await runToEnd(t, id, SYNC);
    expect(partial).toMatchObject({ status: 'partial', imported: 195, failed: 5 });
    await sandbox.control.sizeDataset('xero', 'invoices', { account: uk.tenantId, count: 200, seed });
    const fixed = await runToEnd(t, id, SYNC);
    expect(fixed).toMatchObject({ status: 'succeeded', imported: 5, failed: 0 });
    expect(await records(id)).toEqual(invoices(uk, nz));
  });

  it('waits out a 429 with Retry-After (the tenant minute spent elsewhere) and completes', async () => {
    const [uk, nz] = ada.tenants as [XeroTenant, XeroTenant];
    await size(uk, 150);
    await size(nz, 10);
    const id = await connect();
    // Another app (or process) spends the UK tenant's minute, until Xero refuses it...
    const { accessToken } = await t.tokens.getAccessToken(id);
    const url = `${sandbox.server.url}/xero/api/api.xro/2.0/Invoices?page=1`;
    let retryAfter = 0;
    for (let i = 0; i < 61 && retryAfter === 0; i++) {
      const res = await fetch(url, {
        headers: { authorization: `Bearer ${accessToken}`, 'xero-tenant-id': uk.tenantId },
      });
      await res.body?.cancel();
      if (res.status === 429) retryAfter = Number(res.headers.get('retry-after'));
    }
    expect(retryAfter).toBeGreaterThan(2);
    // ...and the minute has 2 seconds left when the sync starts.
    await sandbox.control.advanceClock((retryAfter - 2) * 1000);
    const refused = sandbox.server.state.keyedLimits.refused(xeroLimitKey(uk.tenantId));
    const started = Date.now();
    const run = await runToEnd(t, id, SYNC);
    expect(run).toMatchObject({ status: 'succeeded', imported: 160, failed: 0 });
    expect(sandbox.server.state.keyedLimits.refused(xeroLimitKey(uk.tenantId))).toBeGreaterThan(refused);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(await records(id)).toEqual(invoices(uk, nz));
  });

  it('never has more than 5 calls in progress per tenant, however many runs read it at once', async () => {
    const [us] = grace.tenants as [XeroTenant];
    await size(us, 450);
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) ids.push(await connect('xero-parallel', grace.id));
    // Slow answers, so that the 8 runs' calls overlap (8 at once without the limit).
    await sandbox.control.latency('xero.invoices', 150);
    const runs = await runSlicesInParallel(
      t,
      ids.map((connectionId) => ({ connectionId, syncName: SYNC })),
    );
    expect(runs.map((r) => r.status)).toEqual(Array(8).fill('succeeded'));
    const key = xeroLimitKey(us.tenantId);
    expect(sandbox.server.state.keyedLimits.peak(key)).toBeLessThanOrEqual(5);
    expect(sandbox.server.state.keyedLimits.peak(key)).toBeGreaterThanOrEqual(4);
    expect(sandbox.server.state.keyedLimits.refused(key)).toBe(0);
    for (const id of ids) expect(await records(id)).toEqual(invoices(us));
  });

  it("stops with rate_limited, storing what it read, when Xero's daily limit asks for hours, and carries on later", async () => {
    const [uk, nz] = ada.tenants as [XeroTenant, XeroTenant];
    await size(uk, 20);
    await size(nz, 20);
    const id = await connect();
    // One call left today: the second tenant's call meets 429, X-Rate-Limit-Problem: day, Retry-After in hours.
    await sandbox.control.rateLimit({
      endpoint: 'xero.invoices',
      limit: 1,
      windowSec: 86_400,
      problem: 'day',
    });
    const started = Date.now();
    const stopped = await runToEnd(t, id, SYNC);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(stopped).toMatchObject({ status: 'failed', imported: 20 });
    expect(stopped.error?.code).toBe('rate_limited');
    await sandbox.control.clearRateLimits();
    const later = await runToEnd(t, id, SYNC);
    expect(later).toMatchObject({ status: 'succeeded', imported: 20 });
    expect(await records(id)).toEqual(invoices(uk, nz));
  });
});
