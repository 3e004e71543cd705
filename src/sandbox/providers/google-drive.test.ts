import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { get, type Loose, type SandboxFixture, startSandboxFixture } from '../testing.ts';
import { googleAccessToken } from './google-testing.ts';

describe('google drive sandbox', () => {
  let sb: SandboxFixture;
  let token: string;
  let accountId: string;
  let api: string;
  beforeAll(async () => {
    sb = await startSandboxFixture('drive-test');
    api = `${sb.endpoints.google.apiBaseUrl}/drive/v3`;
  });
  afterAll(() => sb.server.close());
  beforeEach(async () => {
    await sb.control.reset();
    accountId = (await sb.control.accounts()).google[0]!.sub;
    token = await googleAccessToken(sb, 'https://www.googleapis.com/auth/drive.readonly');
  });
  const call = (path: string) => get(`${api}${path}`, { authorization: `Bearer ${token}` });
  const size = (count: number, extra: Record<string, unknown> = {}) =>
    sb.control.sizeDataset('google', 'files', { account: accountId, count, seed: 'f1', ...extra });

  async function listFiles(query: string): Promise<Loose[]> {
    const files: Loose[] = [];
    let pageToken: string | undefined;
    do {
      const page = await call(`/files?${query}${pageToken ? `&pageToken=${pageToken}` : ''}`);
      expect(page.status, JSON.stringify(page.body)).toBe(200);
      files.push(...page.body.files);
      pageToken = page.body.nextPageToken;
    } while (pageToken);
    return files;
  }

  async function listChanges(pageToken: string, query = ''): Promise<{ changes: Loose[]; pages: Loose[] }> {
    const changes: Loose[] = [];
    const pages: Loose[] = [];
    let token: string | undefined = pageToken;
    while (token) {
      const page = await call(`/changes?pageToken=${token}${query}`);
      expect(page.status, JSON.stringify(page.body)).toBe(200);
      changes.push(...page.body.changes);
      pages.push(page.body);
      token = page.body.nextPageToken;
    }
    return { changes, pages };
  }

  it('lists files in pages with only the default fields unless `fields` asks for more', async () => {
    await size(250);
    const files = await listFiles('pageSize=100');
    expect(files).toHaveLength(250);
    expect(new Set(files.map((f) => f.id)).size).toBe(250);
    expect(Object.keys(files[0]).sort()).toEqual(['id', 'kind', 'mimeType', 'name']);
    const full = await call('/files?pageSize=2&fields=nextPageToken,files(id,version,owners(emailAddress))');
    expect(full.body.files[0]).toEqual({
      id: files[0].id,
      version: expect.stringMatching(/^\d+$/),
      owners: [{ emailAddress: expect.stringContaining('@') }],
    });
    expect(full.body.nextPageToken).toEqual(expect.any(String));
    expect(full.body.kind).toBeUndefined();
    expect((await call('/files?fields=files(id')).status).toBe(400);
    expect((await call('/files?q=name contains "x"')).status).toBe(400);
  });

  it('reports changes from a start page token: trashed files with the file, removed ones without, newStartPageToken last', async () => {
    await size(100);
    const start = (await call('/changes/startPageToken')).body.startPageToken;
    expect(start).toMatch(/^\d+$/);
    expect((await listChanges(start)).changes).toEqual([]);
    await sb.control.changeDataset('google', 'files', {
      account: accountId,
      added: 3,
      updated: 2,
      deleted: 6,
      seed: 'c1',
    });
    const { changes, pages } = await listChanges(start, '&pageSize=4&fields=*');
    expect(changes).toHaveLength(11);
    expect(pages).toHaveLength(3);
    expect(pages.slice(0, -1).every((p) => p.nextPageToken && !p.newStartPageToken)).toBe(true);
    expect(pages.at(-1)).toMatchObject({ newStartPageToken: expect.stringMatching(/^\d+$/) });
    const removed = changes.filter((c) => c.removed);
    const trashed = changes.filter((c) => !c.removed && c.file.trashed);
    expect(removed.length + trashed.length).toBe(6);
    expect(removed.every((c) => c.file === undefined && c.fileId)).toBe(true);
    expect(trashed.length).toBeGreaterThan(0);
    expect(removed.length).toBeGreaterThan(0);
    // includeRemoved=false leaves the removed ones out.
    expect((await listChanges(start, '&includeRemoved=false')).changes).toHaveLength(11 - removed.length);
    // files.list: trashed ones with q, removed ones never; files.get 404s a removed file.
    expect(await listFiles('pageSize=1000&q=trashed = false')).toHaveLength(103 - 6);
    expect(await listFiles('pageSize=1000')).toHaveLength(103 - removed.length);
    expect((await call(`/files/${removed[0].fileId}`)).status).toBe(404);
    expect((await call(`/files/${trashed[0].fileId}?fields=id,trashed`)).body).toEqual({
      id: trashed[0].fileId,
      trashed: true,
    });
    // Nothing new since the last page's token; a token from the future is refused.
    const next = pages.at(-1).newStartPageToken;
    expect((await listChanges(next)).changes).toEqual([]);
    expect((await call(`/changes?pageToken=${Number(next) + 5}`)).status).toBe(400);
    expect((await call('/changes')).status).toBe(400);
    // A token of an earlier sizing of the dataset is refused.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await sb.control.sizeDataset('google', 'files', { account: accountId, count: 5, seed: 'f2' });
    expect((await call(`/changes?pageToken=${next}`)).status).toBe(400);
  });
});
