import { describe, expect, it } from 'vitest';
import { googleCollectionOf } from '../src/sandbox/datasets/collection-kind.ts';
import { renderFile } from '../src/sandbox/providers/google-drive.ts';
import { useSandboxTether } from './harness/sandbox-tether.ts';
import { liveRecords, readAll, runToEnd } from './harness/syncs.ts';

// The Drive sync end to end against the sandbox's generated Drive: files.list for the full copy,
// then the changes feed; after every run the live records must equal the files not deleted.

const SYNC = 'drive-files';
const s = useSandboxTether([{ key: 'drive', provider: 'google-drive', sandboxProvider: 'google' }], {
  endUserPrefix: 'drive-user',
});
let n = 0;

const accountId = async () => (await s.control.accounts()).google[0]!.sub;

async function connected(count: number, extra: { malformedEvery?: number } = {}): Promise<string> {
  await s.control.sizeDataset('google', 'files', {
    account: await accountId(),
    count,
    seed: `drv-${++n}`,
    ...extra,
  });
  return s.connect('drive');
}

const run = (id: string) => runToEnd(s.t, id, SYNC);
const records = (id: string) => liveRecords(s.t, id, 'files', (data) => data.version);

/** The Drive's files not trashed nor removed, id → version. */
async function drive(): Promise<Record<string, unknown>> {
  const files = googleCollectionOf(s.sandboxState, 'files', await accountId())!;
  return Object.fromEntries(
    files.indexes(0, files.size(), {}).map((index) => {
      const file = renderFile(files, index, 'x@example.org');
      return [file.id, file.version];
    }),
  );
}

const change = async (input: { added?: number; updated?: number; deleted?: number }, seed: string) =>
  s.control.changeDataset('google', 'files', { account: await accountId(), seed, ...input });

describe('Drive sync', () => {
  it('copies the files in full, then follows the changes feed: removed and trashed files become tombstones', async () => {
    const id = await connected(2300);
    const full = await run(id);
    expect(full).toMatchObject({ status: 'succeeded', imported: 2300, failed: 0, error: null });
    expect(await s.control.callCount('google.drive.files.list')).toBe(3);
    expect(await records(id)).toEqual(await drive());
    const { cursor } = await readAll(s.t, id, 'files');

    await change({ added: 4, updated: 5, deleted: 6 }, 'c1');
    const lists = await s.control.callCount('google.drive.files.list');
    const incremental = await run(id);
    expect(incremental).toMatchObject({ status: 'succeeded', imported: 4, updated: 5, deleted: 6 });
    expect(await s.control.callCount('google.drive.files.list')).toBe(lists);
    expect(await records(id)).toEqual(await drive());
    const changes = (await readAll(s.t, id, 'files', cursor)).items;
    expect(changes.filter((c) => c.lastAction === 'deleted')).toHaveLength(6);
    expect(changes).toHaveLength(15);

    const again = await run(id);
    expect(again).toMatchObject({ status: 'succeeded', imported: 0, updated: 0, deleted: 0 });
    await change({ updated: 2, deleted: 1 }, 'c2');
    expect(await run(id)).toMatchObject({ status: 'succeeded', updated: 2, deleted: 1 });
    expect(await records(id)).toEqual(await drive());
  });

  it('turns a page token Drive refuses into a full pass that ends in an exact copy', async () => {
    const id = await connected(150);
    expect((await run(id)).status).toBe('succeeded');
    await change({ added: 1, deleted: 2 }, 'gone');
    await s.control.failNext('google.drive.changes.list', 400, {
      body: { error: { code: 400, message: 'Invalid Value', errors: [{ reason: 'invalid' }] } },
    });
    const resync = await run(id);
    expect(resync).toMatchObject({ status: 'succeeded', imported: 1, deleted: 2 });
    expect(await s.control.callCount('google.drive.files.list')).toBe(2);
    expect(await records(id)).toEqual(await drive());
  });

  it('stores the good files of a page with malformed ones, and imports those once fixed', async () => {
    const id = await connected(120, { malformedEvery: 40 });
    expect(await run(id)).toMatchObject({ status: 'partial', imported: 117, failed: 3, deleted: 0 });
    await s.control.sizeDataset('google', 'files', {
      account: await accountId(),
      count: 120,
      seed: `drv-${n}`,
    });
    expect(await run(id)).toMatchObject({ status: 'succeeded', imported: 3, failed: 0 });
    expect(await records(id)).toEqual(await drive());
  });
});
