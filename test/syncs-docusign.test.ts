import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { recordSetOf } from '../src/sandbox/datasets/record-set-kinds.ts';
import type { SandboxControl, SandboxServer } from '../src/sandbox/index.ts';
import { renderEnvelope } from '../src/sandbox/providers/docusign-api.ts';
import { connectThroughSandbox, createSandboxIntegration, startSandbox } from './harness/sandbox-connect.ts';
import { liveRecords, readAll, runToEnd } from './harness/syncs.ts';
import { startTestTether, type TestTether } from './harness/tether.ts';

// The DocuSign envelopes sync end to end: status changes since from_date, paged by
// start_position; after every run the records equal the account's envelopes.

const SYNC = 'docusign-envelopes';

let t: TestTether;
let sandbox: { server: SandboxServer; control: SandboxControl; close: () => Promise<void> };
let accountId: string;
let n = 0;

beforeAll(async () => {
  sandbox = await startSandbox();
  t = await startTestTether();
  await createSandboxIntegration(t, sandbox.server.url, { key: 'docusign', provider: 'docusign' });
  accountId = (await sandbox.control.accounts()).docusign[0]!.accounts.find((a) => a.isDefault)!.accountId;
});
afterAll(async () => {
  await t?.close();
  await sandbox?.close();
});
beforeEach(async () => {
  await sandbox.control.clearFaults();
});

async function connected(count: number, extra: { malformedEvery?: number } = {}): Promise<string> {
  await sandbox.control.sizeDataset('docusign', 'envelopes', {
    account: accountId,
    count,
    seed: `seed-${++n}`,
    ...extra,
  });
  const { connectionId, status, body } = await connectThroughSandbox(t, sandbox.control, {
    integration: 'docusign',
    endUserId: `user-${n}`,
  });
  expect(status, body).toBe(200);
  return connectionId!;
}

function envelopes(): Record<string, string> {
  const set = recordSetOf(sandbox.server.state, 'docusign', 'envelopes', accountId)!;
  const out: Record<string, string> = {};
  for (let index = 0; index < set.size(); index++) {
    const e = renderEnvelope(set, set.state(index)) as { envelopeId: string; status: string };
    out[e.envelopeId] = e.status;
  }
  return out;
}
const records = (id: string) => liveRecords(t, id, 'envelopes', (d) => d.status);

describe('DocuSign envelopes sync', () => {
  it('copies the envelopes in full, then the status changes since the last one, voided ones kept', async () => {
    const id = await connected(250);
    const full = await runToEnd(t, id, SYNC);
    expect(full).toMatchObject({ status: 'succeeded', imported: 250, failed: 0, error: null });
    expect(await records(id)).toEqual(envelopes());
    const { cursor } = await readAll(t, id, 'envelopes');

    await sandbox.control.advanceClock(1000);
    await sandbox.control.changeDataset('docusign', 'envelopes', {
      account: accountId,
      added: 4,
      updated: 3,
      deleted: 2,
      seed: 'c1',
    });
    const calls = await sandbox.control.callCount('docusign.envelopes');
    const incremental = await runToEnd(t, id, SYNC);
    expect(incremental).toMatchObject({ status: 'succeeded', imported: 4, updated: 5, deleted: 0 });
    expect((await sandbox.control.callCount('docusign.envelopes')) - calls).toBe(1);
    expect(await records(id)).toEqual(envelopes());
    const changes = (await readAll(t, id, 'envelopes', cursor)).items;
    expect(changes).toHaveLength(9);
    expect(changes.filter((c) => c.data.status === 'voided')).toHaveLength(2);
    const again = await runToEnd(t, id, SYNC);
    expect(again).toMatchObject({ status: 'succeeded', imported: 0, updated: 0 });
  });

  it('keeps the good envelopes of a page with malformed ones, and imports those once fixed', async () => {
    const id = await connected(120, { malformedEvery: 25 });
    const partial = await runToEnd(t, id, SYNC);
    expect(partial).toMatchObject({ status: 'partial', imported: 116, failed: 4 });
    await sandbox.control.sizeDataset('docusign', 'envelopes', {
      account: accountId,
      count: 120,
      seed: `seed-${n}`,
    });
    const fixed = await runToEnd(t, id, SYNC);
    expect(fixed).toMatchObject({ status: 'succeeded', imported: 4, failed: 0 });
    expect(await records(id)).toEqual(envelopes());
  });

  it('waits out DocuSign 429s and 5xx and still ends in an exact copy', async () => {
    const id = await connected(150);
    await sandbox.control.failNext('docusign.envelopes', 429, { times: 1, headers: { 'retry-after': '1' } });
    await sandbox.control.failNext('docusign.envelopes', 503, { times: 1 });
    const run = await runToEnd(t, id, SYNC);
    expect(run).toMatchObject({ status: 'succeeded', imported: 150 });
    expect(await records(id)).toEqual(envelopes());
  });
});
