import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HISTORY_RETENTION_MS } from '../datasets/gmail-mailbox.ts';
import {
  get,
  type Loose,
  postForm,
  REDIRECT_URI,
  type SandboxFixture,
  startSandboxFixture,
  withQuery,
} from '../testing.ts';

const CLIENT = { client_id: 'sandbox-google-client', client_secret: 'sandbox-google-secret' };

describe('gmail sandbox', () => {
  let sb: SandboxFixture;
  let token: string;
  let refreshToken: string;
  let api: string;
  let accountId: string;
  beforeAll(async () => {
    sb = await startSandboxFixture('gmail-test');
    api = `${sb.endpoints.google.apiBaseUrl}/gmail/v1/users/me`;
  });
  afterAll(() => sb.server.close());
  beforeEach(async () => {
    await sb.control.reset();
    accountId = (await sb.control.accounts()).google[0]!.sub;
    const consent = await sb.control.authorize(
      withQuery(sb.endpoints.google.authorizationUrl, {
        client_id: CLIENT.client_id,
        redirect_uri: REDIRECT_URI,
        response_type: 'code',
        scope: 'openid email https://www.googleapis.com/auth/gmail.readonly',
        state: 's',
        access_type: 'offline',
      }),
    );
    const tokens = await postForm(sb.endpoints.google.tokenUrl, {
      grant_type: 'authorization_code',
      code: consent.code!,
      redirect_uri: REDIRECT_URI,
      ...CLIENT,
    });
    token = tokens.body.access_token;
    refreshToken = tokens.body.refresh_token;
  });
  const call = (path: string) => get(`${api}${path}`, { authorization: `Bearer ${token}` });
  const size = (count: number, extra: Record<string, unknown> = {}) =>
    sb.control.sizeDataset('google', 'messages', { account: accountId, count, seed: 'm1', ...extra });

  async function listAll(maxResults: number): Promise<string[]> {
    const ids: string[] = [];
    let pageToken: string | undefined;
    do {
      const page = await call(
        `/messages?maxResults=${maxResults}${pageToken ? `&pageToken=${pageToken}` : ''}`,
      );
      expect(page.status).toBe(200);
      ids.push(...(page.body.messages ?? []).map((m: Loose) => m.id));
      pageToken = page.body.nextPageToken;
    } while (pageToken);
    return ids;
  }

  it('lists a generated mailbox newest first in pages, the same for the same seed', async () => {
    await size(1234);
    const first = await call('/messages?maxResults=500');
    expect(first.body.messages).toHaveLength(500);
    expect(first.body.resultSizeEstimate).toBe(1234);
    const ids = await listAll(500);
    expect(ids).toHaveLength(1234);
    expect(new Set(ids).size).toBe(1234);
    const dates = [];
    for (const id of ids.slice(0, 3))
      dates.push(Number((await call(`/messages/${id}?format=minimal`)).body.internalDate));
    expect(dates).toEqual([...dates].sort((a, b) => b - a));
    // Gmail caps maxResults at 500.
    expect((await call('/messages?maxResults=900')).body.messages).toHaveLength(500);

    await size(1234, { seed: 'another' });
    expect(await listAll(500)).not.toEqual(ids);
    await size(1234);
    expect(await listAll(500)).toEqual(ids);
  });

  it('sizes a 100,000-message mailbox without holding it', async () => {
    const summary = await size(100_000);
    expect(summary).toMatchObject({ count: 100_000, historyId: String(1_000_000 + 100_000) });
    const page = await call('/messages?maxResults=2');
    const newest = await call(`/messages/${page.body.messages[0].id}?format=minimal`);
    expect(newest.body.historyId).toBe('1100000');
  });

  it('answers messages.get in the formats Gmail has, and 404 for an unknown id', async () => {
    await size(5);
    const [{ id }] = (await call('/messages')).body.messages;
    const minimal = (await call(`/messages/${id}?format=minimal`)).body;
    expect(Object.keys(minimal).sort()).toEqual(
      ['historyId', 'id', 'internalDate', 'labelIds', 'sizeEstimate', 'snippet', 'threadId'].sort(),
    );
    const metadata = (await call(`/messages/${id}?format=metadata&metadataHeaders=Subject`)).body;
    expect(metadata.payload.headers.map((h: Loose) => h.name)).toEqual(['Subject']);
    const full = (await call(`/messages/${id}`)).body;
    expect(Buffer.from(full.payload.body.data, 'base64url').toString()).toContain('.');
    expect((await call(`/messages/${id}?format=bogus`)).status).toBe(400);
    const missing = await call('/messages/18ffffff00000000');
    expect(missing.status).toBe(404);
    expect(missing.body.error.status).toBe('NOT_FOUND');
  });

  it('reports changes through history.list with increasing ids, deletes answering 404 afterwards', async () => {
    await size(100);
    const start = (await call('/profile')).body.historyId;
    expect(start).toBe('1000100');
    const after = await sb.control.changeDataset('google', 'messages', {
      account: accountId,
      added: 3,
      updated: 2,
      deleted: 2,
      seed: 'c1',
    });
    expect(after).toMatchObject({ count: 101, historyId: '1000107' });
    const page1 = await call(`/history?startHistoryId=${start}&maxResults=4`);
    expect(page1.status).toBe(200);
    expect(page1.body.history.map((h: Loose) => h.id)).toEqual(['1000101', '1000102', '1000103', '1000104']);
    expect(page1.body.history[0].messagesAdded).toHaveLength(1);
    expect(page1.body.history[3].labelsAdded).toHaveLength(1);
    const page2 = await call(`/history?startHistoryId=${start}&pageToken=${page1.body.nextPageToken}`);
    expect(page2.body.nextPageToken).toBeUndefined();
    expect(page2.body.historyId).toBe('1000107');
    const deletes = page2.body.history.filter((h: Loose) => h.messagesDeleted);
    expect(deletes).toHaveLength(2);
    expect((await call(`/messages/${deletes[0].messagesDeleted[0].message.id}`)).status).toBe(404);
    const updated = page1.body.history[3].labelsAdded[0].message.id;
    expect((await call(`/messages/${updated}?format=minimal`)).body).toMatchObject({ historyId: '1000104' });
    expect(await listAll(500)).toHaveLength(101);
    expect((await call('/history?startHistoryId=1000107')).body.history).toBeUndefined();
  });

  it('answers 404 for a startHistoryId older than the week of history Gmail keeps', async () => {
    await size(10);
    await sb.control.changeDataset('google', 'messages', { account: accountId, added: 1, seed: 'c' });
    expect((await call('/history?startHistoryId=1000005')).status).toBe(200);
    await sb.control.advanceClock(HISTORY_RETENTION_MS + 60_000);
    const refreshed = await postForm(sb.endpoints.google.tokenUrl, {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      ...CLIENT,
    });
    token = refreshed.body.access_token;
    const stale = await call('/history?startHistoryId=1000005');
    expect(stale.status).toBe(404);
    expect(stale.body.error.status).toBe('NOT_FOUND');
    // A history id from now on works again.
    expect((await call('/history?startHistoryId=1000011')).status).toBe(200);
  });

  it('answers a batch of messages.get calls as Google does, each part with its own status', async () => {
    await size(3, { malformedEvery: 2 });
    const ids: string[] = (await call('/messages')).body.messages.map((m: Loose) => m.id);
    await sb.control.failNext('google.gmail.messages.get', 429, { body: { error: { code: 429 } } });
    const boundary = 'batch_test';
    const body = [...ids, '18ffffff00000000']
      .map(
        (id, i) =>
          `--${boundary}\r\nContent-Type: application/http\r\nContent-ID: <item${i}>\r\n\r\nGET /gmail/v1/users/me/messages/${id}?format=metadata\r\n\r\n`,
      )
      .join('')
      .concat(`--${boundary}--\r\n`);
    const res = await fetch(`${sb.endpoints.google.apiBaseUrl}/batch/gmail/v1`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': `multipart/mixed; boundary=${boundary}` },
      body,
    });
    expect(res.status).toBe(200);
    const type = res.headers.get('content-type')!;
    const answerBoundary = /boundary=(\S+)/.exec(type)![1]!;
    const text = await res.text();
    const parts = text.split(`--${answerBoundary}`).slice(1, -1);
    expect(parts).toHaveLength(4);
    expect(parts.map((p) => /Content-ID: <(.*)>/.exec(p)![1])).toEqual([
      'response-item0',
      'response-item1',
      'response-item2',
      'response-item3',
    ]);
    expect(parts.map((p) => Number(/HTTP\/1.1 (\d{3})/.exec(p)![1]))).toEqual([429, 200, 200, 404]);
    const malformed = JSON.parse(parts[1]!.slice(parts[1]!.indexOf('{')));
    // Newest first: the second listed is message 1, a malformed one (every second).
    expect(malformed.internalDate).toBe('garbled');
    expect(await sb.control.callCount('google.gmail.batch')).toBe(1);
    expect(await sb.control.callCount('google.gmail.messages.get')).toBe(4);

    const tooMany = Array.from(
      { length: 101 },
      (_, i) => `--b\r\nContent-Type: application/http\r\n\r\nGET /gmail/v1/users/me/messages/x${i}\r\n\r\n`,
    ).join('');
    const refused = await fetch(`${sb.endpoints.google.apiBaseUrl}/batch/gmail/v1`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'multipart/mixed; boundary=b' },
      body: `${tooMany}--b--`,
    });
    expect(refused.status).toBe(400);
  });

  it('answers every part of a batch as its own call: other Gmail calls, rate limits, a dropped call', async () => {
    await size(5);
    const ids: string[] = (await call('/messages')).body.messages.map((m: Loose) => m.id);
    const batch = (paths: string[]) =>
      fetch(`${sb.endpoints.google.apiBaseUrl}/batch/gmail/v1`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'multipart/mixed; boundary=b' },
        body: paths
          .map(
            (p, i) =>
              `--b\r\nContent-Type: application/http\r\nContent-ID: <item${i}>\r\n\r\nGET ${p}\r\n\r\n`,
          )
          .join('')
          .concat('--b--\r\n'),
      });
    const answerParts = async (res: Response) => {
      const boundary = /boundary=(\S+)/.exec(res.headers.get('content-type')!)![1]!;
      return (await res.text())
        .split(`--${boundary}`)
        .slice(1, -1)
        .map((p) => ({
          status: Number(/HTTP\/1.1 (\d{3})/.exec(p)![1]),
          head: p.slice(0, p.indexOf('{')),
          body: JSON.parse(p.slice(p.indexOf('{'))),
        }));
    };
    // At most two messages.get a minute: the third part is answered Google's 429, with Retry-After.
    await sb.control.rateLimit({ endpoint: 'google.gmail.messages.get', limit: 2, windowSec: 60 });
    const parts = await answerParts(
      await batch([
        `/gmail/v1/users/me/messages/${ids[0]}?format=minimal`,
        '/gmail/v1/users/me/profile',
        `/gmail/v1/users/me/messages/${ids[1]}?format=metadata&metadataHeaders=Subject`,
        `/gmail/v1/users/me/messages/${ids[2]}`,
      ]),
    );
    expect(parts.map((p) => p.status)).toEqual([200, 200, 200, 429]);
    expect(parts[0]!.body).not.toHaveProperty('payload');
    expect(parts[1]!.body.messagesTotal).toBe(5);
    expect(parts[2]!.body.payload.headers.map((h: Loose) => h.name)).toEqual(['Subject']);
    expect(parts[3]!.body.error.status).toBe('RESOURCE_EXHAUSTED');
    expect(parts[3]!.head).toMatch(/retry-after: \d+/i);
    const { recent } = await sb.control.calls();
    expect(recent.filter((c) => c.endpoint === 'google.gmail.messages.get').map((c) => c.status)).toEqual([
      429, 200, 200,
    ]);
    await sb.control.reset();

    // A call that is never answered holds back the whole answer: here the connection is cut.
    await size(5);
    await sb.control.drop('google.gmail.messages.get', { times: 1 });
    const dropped = await batch([`/gmail/v1/users/me/messages/${ids[0]}`]).catch((e: unknown) => e);
    expect(dropped).toBeInstanceOf(TypeError);
  });

  it('fixes malformed records by sizing again without malformedEvery, keeping the history', async () => {
    await size(6, { malformedEvery: 2 });
    await sb.control.changeDataset('google', 'messages', { account: accountId, added: 1, seed: 'c' });
    const ids: string[] = (await call('/messages')).body.messages.map((m: Loose) => m.id);
    const bad = await Promise.all(
      ids.map(async (id) => (await call(`/messages/${id}`)).body.internalDate === 'garbled'),
    );
    expect(bad.filter(Boolean)).toHaveLength(3);
    await size(6);
    for (const id of ids) expect((await call(`/messages/${id}`)).body.internalDate).toMatch(/^\d+$/);
    expect((await call('/history?startHistoryId=1000006')).body.history).toHaveLength(1);
  });

  it('refuses a bad pageToken, a missing startHistoryId and another user', async () => {
    await size(3);
    expect((await call('/messages?pageToken=abc')).status).toBe(400);
    expect((await call('/history')).status).toBe(400);
    const other = await get(`${sb.endpoints.google.apiBaseUrl}/gmail/v1/users/someone@example.com/messages`, {
      authorization: `Bearer ${token}`,
    });
    expect(other.status).toBe(403);
    expect((await get(`${api}/messages`)).status).toBe(401);
  });

  it('refuses datasets it does not know, unknown accounts and bad sizes with 4xx', async () => {
    const put = (path: string, body: unknown) =>
      fetch(`${sb.server.url}/_control/datasets/${path}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await put('google/invoices', { account: accountId, count: 1, seed: 's' })).status).toBe(404);
    expect((await put('google/messages', { account: 'nobody', count: 1, seed: 's' })).status).toBe(404);
    const bad = await put('google/messages', { account: accountId, count: -1, seed: 's' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as Loose).error.code).toBe('validation_failed');
  });
});
