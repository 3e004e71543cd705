import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  get,
  type Loose,
  postForm,
  REDIRECT_URI,
  type SandboxFixture,
  startSandboxFixture,
  withQuery,
} from '../testing.ts';

const CLIENT = { client_id: 'sandbox-instagram-client', client_secret: 'sandbox-instagram-secret' };

describe('instagram media sandbox', () => {
  let sb: SandboxFixture;
  let token: string;
  let userId: string;
  beforeAll(async () => {
    sb = await startSandboxFixture('instagram-api-test');
  });
  afterAll(() => sb.server.close());
  beforeEach(async () => {
    await sb.control.reset();
    const consent = await sb.control.authorize(
      withQuery(sb.endpoints.instagram.authorizationUrl, {
        client_id: CLIENT.client_id,
        redirect_uri: REDIRECT_URI,
        response_type: 'code',
        scope: 'instagram_business_basic',
      }),
    );
    const tokens = await postForm(sb.endpoints.instagram.tokenUrl, {
      ...CLIENT,
      grant_type: 'authorization_code',
      redirect_uri: REDIRECT_URI,
      code: consent.code!,
    });
    token = tokens.body.access_token;
    userId = (await sb.control.accounts()).instagram[0]!.userId;
  });
  const media = (query: Record<string, string>) =>
    get(withQuery(`${sb.endpoints.instagram.apiBaseUrl}/me/media`, { access_token: token, ...query }));
  const size = (count: number, extra: Record<string, unknown> = {}) =>
    sb.control.sizeDataset('instagram', 'media', { account: userId, count, seed: 'm1', ...extra });

  it('pages newest first by the after cursor, with paging.next only while there is more', async () => {
    await size(60);
    const ids: string[] = [];
    let after: string | undefined;
    let pages = 0;
    for (;;) {
      const page = await media({
        fields: 'id,timestamp,like_count',
        limit: '25',
        ...(after ? { after } : {}),
      });
      expect(page.status).toBe(200);
      ids.push(...page.body.data.map((m: Loose) => m.id));
      pages++;
      if (!page.body.paging.next) break;
      expect(page.body.paging.next).toContain('after=');
      after = page.body.paging.cursors.after;
    }
    expect(pages).toBe(3);
    expect(new Set(ids).size).toBe(60);
    const first = (await media({ fields: 'id,timestamp,like_count,comments_count', limit: '2' })).body.data;
    expect(first[0]).toEqual({
      id: expect.stringMatching(/^\d+$/),
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000$/),
      like_count: expect.any(Number),
      comments_count: expect.any(Number),
    });
    expect(first[0].timestamp > first[1].timestamp).toBe(true);
    // Only the id without fields.
    expect(Object.keys((await media({ limit: '1' })).body.data[0])).toEqual(['id']);
  });

  it('forgets removed posts (error 100 for their id) and shows new counts for updated ones', async () => {
    await size(10);
    const before = (await media({ fields: 'id,like_count', limit: '10' })).body.data;
    await sb.control.changeDataset('instagram', 'media', {
      account: userId,
      updated: 3,
      deleted: 2,
      seed: 'c1',
    });
    const after = (await media({ fields: 'id,like_count', limit: '10' })).body.data;
    expect(after).toHaveLength(8);
    const gone = before.filter((m: Loose) => !after.some((a: Loose) => a.id === m.id));
    expect(gone).toHaveLength(2);
    const more = after.filter(
      (a: Loose) => a.like_count > before.find((m: Loose) => m.id === a.id).like_count,
    );
    expect(more).toHaveLength(3);
    const one = await get(
      withQuery(`${sb.endpoints.instagram.apiBaseUrl}/${gone[0].id}`, { access_token: token }),
    );
    expect(one.status).toBe(400);
    expect(one.body.error).toMatchObject({ code: 100, error_subcode: 33 });
  });

  it('refuses an unknown field and a bad token in Graph API errors', async () => {
    await size(1);
    const unknown = await media({ fields: 'id,secret' });
    expect(unknown.body.error).toMatchObject({ code: 100, type: 'OAuthException' });
    const bad = await get(
      withQuery(`${sb.endpoints.instagram.apiBaseUrl}/me/media`, { access_token: 'nope' }),
    );
    expect(bad.body.error.code).toBe(190);
  });
});
