import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { get, type Loose, type SandboxFixture, startSandboxFixture } from '../testing.ts';
import { SYNC_TOKEN_LIFETIME_MS } from './google-calendar.ts';
import { googleAccessToken } from './google-testing.ts';

describe('google calendar sandbox', () => {
  let sb: SandboxFixture;
  let token: string;
  let accountId: string;
  let api: string;
  beforeAll(async () => {
    sb = await startSandboxFixture('calendar-test');
    api = `${sb.endpoints.google.apiBaseUrl}/calendar/v3/calendars`;
  });
  afterAll(() => sb.server.close());
  beforeEach(async () => {
    await sb.control.reset();
    accountId = (await sb.control.accounts()).google[0]!.sub;
    token = await googleAccessToken(sb, 'https://www.googleapis.com/auth/calendar.readonly');
  });
  const call = (query: string, calendar = 'primary') =>
    get(`${api}/${encodeURIComponent(calendar)}/events${query}`, { authorization: `Bearer ${token}` });
  const size = (count: number, seed = 'e1', extra: Record<string, unknown> = {}) =>
    sb.control.sizeDataset('google', 'events', { account: accountId, count, seed, ...extra });
  const change = (input: { added?: number; updated?: number; deleted?: number }, seed = 'c1') =>
    sb.control.changeDataset('google', 'events', { account: accountId, seed, ...input });

  /** Every page of a listing: the items, and how each page ended. */
  async function listAll(query: string): Promise<{ items: Loose[]; pages: Loose[] }> {
    const items: Loose[] = [];
    const pages: Loose[] = [];
    let pageToken: string | undefined;
    do {
      const page = await call(`${query}${pageToken ? `&pageToken=${encodeURIComponent(pageToken)}` : ''}`);
      expect(page.status, JSON.stringify(page.body)).toBe(200);
      items.push(...page.body.items);
      pages.push(page.body);
      pageToken = page.body.nextPageToken;
    } while (pageToken);
    return { items, pages };
  }

  it('pages a generated calendar with nextPageToken, and gives nextSyncToken on the last page only', async () => {
    await size(1234);
    const { items, pages } = await listAll('?maxResults=500');
    expect(pages).toHaveLength(3);
    expect(items).toHaveLength(1234);
    expect(new Set(items.map((e) => e.id)).size).toBe(1234);
    for (const page of pages.slice(0, -1)) {
      expect(page.nextPageToken).toEqual(expect.any(String));
      expect(page.nextSyncToken).toBeUndefined();
    }
    expect(pages.at(-1).nextSyncToken).toEqual(expect.any(String));
    expect(pages.at(-1).nextPageToken).toBeUndefined();
    expect(items[0]).toMatchObject({
      kind: 'calendar#event',
      status: expect.stringMatching(/^(confirmed|tentative)$/),
      start: { dateTime: expect.any(String) },
      updated: expect.any(String),
    });
    // The same seed gives the same events; the default page is 250, and 2500 at most.
    const again = await call('');
    expect(again.body.items).toHaveLength(250);
    expect(again.body.items[0]).toEqual(items[0]);
    expect((await call('?maxResults=5000')).body.items).toHaveLength(1234);
    expect((await call('?maxResults=0')).status).toBe(400);
  });

  it('reports changes to a sync token, deleted events as cancelled, then an empty page', async () => {
    await size(300);
    const full = await listAll('?maxResults=100');
    const syncToken = full.pages.at(-1).nextSyncToken;
    await change({ added: 4, updated: 3, deleted: 2 });
    const delta = await listAll(`?maxResults=2&syncToken=${encodeURIComponent(syncToken)}`);
    expect(delta.items).toHaveLength(9);
    expect(delta.pages).toHaveLength(5);
    const cancelled = delta.items.filter((e) => e.status === 'cancelled');
    expect(cancelled).toHaveLength(2);
    expect(Object.keys(cancelled[0]).sort()).toEqual(['etag', 'id', 'kind', 'status']);
    const updated = delta.items.filter((e) => e.status !== 'cancelled' && e.summary.startsWith('(v1)'));
    expect(updated).toHaveLength(3);
    const next = delta.pages.at(-1).nextSyncToken;
    const quiet = await call(`?syncToken=${encodeURIComponent(next)}`);
    expect(quiet.body).toMatchObject({ items: [], nextSyncToken: expect.any(String) });

    // A full listing hides cancelled events unless showDeleted=true.
    expect((await listAll('?maxResults=2500')).items).toHaveLength(302);
    const withDeleted = (await listAll('?maxResults=2500&showDeleted=true')).items;
    expect(withDeleted).toHaveLength(304);
    expect(withDeleted.filter((e) => e.status === 'cancelled')).toHaveLength(2);
    // events.get still answers a deleted event, cancelled.
    const one = await get(`${api}/primary/events/${cancelled[0].id}`, { authorization: `Bearer ${token}` });
    expect(one.body).toMatchObject({ id: cancelled[0].id, status: 'cancelled' });
  });

  it('answers 410 fullSyncRequired for a sync token it cannot honour', async () => {
    await size(10);
    const syncToken = (await call('')).body.nextSyncToken;
    const gone = (t: { status: number; body: Loose }) => {
      expect(t.status).toBe(410);
      expect(t.body.error.errors[0].reason).toBe('fullSyncRequired');
    };
    gone(await call('?syncToken=not-a-token'));
    // Filters Google refuses beside a sync token are a 400, not a 410.
    expect((await call(`?syncToken=${syncToken}&timeMin=2024-01-01T00:00:00Z`)).status).toBe(400);
    expect((await call(`?syncToken=${syncToken}`)).status).toBe(200);
    await sb.control.preset('google.calendar_sync_token_expired', { times: 1 });
    gone(await call(`?syncToken=${syncToken}`));
    expect((await call(`?syncToken=${syncToken}`)).status).toBe(200);
    // Too old on the sandbox clock (the access token expires too: get a new one).
    await sb.control.advanceClock(SYNC_TOKEN_LIFETIME_MS + 60_000);
    token = await googleAccessToken(sb, 'https://www.googleapis.com/auth/calendar.readonly');
    gone(await call(`?syncToken=${syncToken}`));
    // A token of an earlier sizing of the dataset.
    const fresh = (await call('')).body.nextSyncToken;
    await size(10, 'e2');
    gone(await call(`?syncToken=${fresh}`));
  });

  it('serves malformed events when asked, other calendars 404, and a bad bearer 401', async () => {
    await size(20, 'e1', { malformedEvery: 10 });
    const items = (await call('')).body.items;
    expect(items.filter((e: Loose) => e.start === 'garbled')).toHaveLength(2);
    expect((await call('', 'someone-else@example.org')).status).toBe(404);
    const anon = await get(`${api}/primary/events`, { authorization: 'Bearer nope' });
    expect(anon.status).toBe(401);
    await sb.control.failNext('google.calendar.events.list', 503);
    expect((await call('')).status).toBe(503);
  });
});
