import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  basicAuth,
  get,
  type Loose,
  postJson,
  REDIRECT_URI,
  type SandboxFixture,
  startSandboxFixture,
  withQuery,
} from '../testing.ts';

const BASIC = { authorization: basicAuth('sandbox-notion-client', 'sandbox-notion-secret') };

describe('notion search sandbox', () => {
  let sb: SandboxFixture;
  let headers: Record<string, string>;
  let userId: string;
  beforeAll(async () => {
    sb = await startSandboxFixture('notion-api-test');
  });
  afterAll(() => sb.server.close());
  beforeEach(async () => {
    await sb.control.reset();
    const consent = await sb.control.authorize(
      withQuery(sb.endpoints.notion.authorizationUrl, {
        client_id: 'sandbox-notion-client',
        redirect_uri: REDIRECT_URI,
        response_type: 'code',
        owner: 'user',
        state: 'n1',
      }),
    );
    const tokens = await postJson(
      sb.endpoints.notion.tokenUrl,
      { grant_type: 'authorization_code', code: consent.code!, redirect_uri: REDIRECT_URI },
      BASIC,
    );
    headers = { authorization: `Bearer ${tokens.body.access_token}`, 'notion-version': '2022-06-28' };
    userId = (await sb.control.accounts()).notion[0]!.id;
  });
  const search = (body: Record<string, unknown>) =>
    postJson(`${sb.endpoints.notion.apiBaseUrl}/v1/search`, body, headers);
  const size = (count: number, extra: Record<string, unknown> = {}) =>
    sb.control.sizeDataset('notion', 'pages', { account: userId, count, seed: 'p1', ...extra });
  const DESC = { timestamp: 'last_edited_time', direction: 'descending' };

  it('pages the search newest edit first with start_cursor, next_cursor and has_more', async () => {
    await size(230);
    const ids: string[] = [];
    const times: string[] = [];
    let cursor: string | undefined;
    let calls = 0;
    do {
      const page = await search({
        filter: { property: 'object', value: 'page' },
        sort: DESC,
        page_size: 100,
        ...(cursor ? { start_cursor: cursor } : {}),
      });
      expect(page.status).toBe(200);
      expect(page.body.object).toBe('list');
      ids.push(...page.body.results.map((p: Loose) => p.id));
      times.push(...page.body.results.map((p: Loose) => p.last_edited_time));
      cursor = page.body.has_more ? page.body.next_cursor : undefined;
      calls++;
    } while (cursor);
    expect(calls).toBe(3);
    expect(new Set(ids).size).toBe(230);
    expect(times).toEqual([...times].sort().reverse());
    // Times are rounded down to the minute, as Notion's are.
    expect(times.every((t) => t.endsWith(':00.000Z'))).toBe(true);
    const databases = await search({ filter: { property: 'object', value: 'database' } });
    expect(databases.body.results).toEqual([]);
  });

  it('finds removed pages archived and in the trash, edited now', async () => {
    await size(20);
    await sb.control.advanceClock(120_000);
    await sb.control.changeDataset('notion', 'pages', {
      account: userId,
      updated: 2,
      deleted: 3,
      seed: 'c1',
    });
    const page = await search({ sort: DESC, page_size: 5 });
    const top = page.body.results;
    expect(top.filter((p: Loose) => p.archived && p.in_trash)).toHaveLength(3);
    expect(top.filter((p: Loose) => !p.archived)).toHaveLength(2);
    const one = await get(`${sb.endpoints.notion.apiBaseUrl}/v1/pages/${top[0].id}`, headers);
    expect(one.body.id).toBe(top[0].id);
    const missing = await get(
      `${sb.endpoints.notion.apiBaseUrl}/v1/pages/00000000-0000-0000-0000-000000000000`,
      headers,
    );
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('object_not_found');
  });

  it('refuses page_size over 100, a foreign cursor and a bad filter with validation_error', async () => {
    for (const body of [
      { page_size: 101 },
      { start_cursor: 'nope' },
      { filter: { property: 'title', value: 'page' } },
    ]) {
      const answer = await search(body);
      expect(answer.status).toBe(400);
      expect(answer.body.code).toBe('validation_error');
    }
  });

  it('allows a burst around 3 requests a second, then answers 429 rate_limited with Retry-After', async () => {
    await size(1);
    const answers = [];
    for (let i = 0; i < 11; i++) answers.push(await search({ page_size: 1 }));
    expect(answers.slice(0, 10).every((a) => a.status === 200)).toBe(true);
    const limited = answers[10]!;
    expect(limited.status).toBe(429);
    expect(limited.body.code).toBe('rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    await sb.control.advanceClock(3000);
    expect((await search({ page_size: 1 })).status).toBe(200);
  });
});
