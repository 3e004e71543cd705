import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type Loose,
  pkcePair,
  postForm,
  postJson,
  REDIRECT_URI,
  type SandboxFixture,
  startSandboxFixture,
  withQuery,
} from '../testing.ts';

const CLIENT = { client_key: 'sandbox-tiktok-client', client_secret: 'sandbox-tiktok-secret' };

describe('tiktok videos sandbox', () => {
  let sb: SandboxFixture;
  let openId: string;
  beforeAll(async () => {
    sb = await startSandboxFixture('tiktok-api-test');
  });
  afterAll(() => sb.server.close());
  beforeEach(async () => {
    await sb.control.reset();
    openId = (await sb.control.accounts()).tiktok[0]!.openId;
  });
  async function tokenFor(scope: string): Promise<string> {
    const pkce = pkcePair();
    const consent = await sb.control.authorize(
      withQuery(sb.endpoints.tiktok.authorizationUrl, {
        client_key: CLIENT.client_key,
        redirect_uri: REDIRECT_URI,
        response_type: 'code',
        scope,
        state: 't1',
        code_challenge: pkce.challenge,
        code_challenge_method: 'S256',
      }),
    );
    const tokens = await postForm(sb.endpoints.tiktok.tokenUrl, {
      ...CLIENT,
      grant_type: 'authorization_code',
      code: consent.code!,
      redirect_uri: REDIRECT_URI,
      code_verifier: pkce.verifier,
    });
    return tokens.body.access_token;
  }
  const list = (token: string, body: Record<string, unknown>, fields = 'id,create_time,view_count') =>
    postJson(`${sb.endpoints.tiktok.apiBaseUrl}/v2/video/list/?fields=${fields}`, body, {
      authorization: `Bearer ${token}`,
    });
  const size = (count: number) =>
    sb.control.sizeDataset('tiktok', 'videos', { account: openId, count, seed: 'v1' });

  it('lists newest first, 20 at most, by the millisecond cursor with has_more', async () => {
    const token = await tokenFor('user.info.basic,video.list');
    await size(45);
    const ids: string[] = [];
    const created: number[] = [];
    let cursor: number | undefined;
    let pages = 0;
    for (;;) {
      const page = await list(token, { max_count: 20, ...(cursor === undefined ? {} : { cursor }) });
      expect(page.status).toBe(200);
      expect(page.body.error.code).toBe('ok');
      ids.push(...page.body.data.videos.map((v: Loose) => v.id));
      created.push(...page.body.data.videos.map((v: Loose) => v.create_time));
      pages++;
      if (!page.body.data.has_more) break;
      cursor = page.body.data.cursor;
      // A millisecond timestamp, not TikTok's create_time in seconds.
      expect(cursor).toBeGreaterThan(1_000_000_000_000);
    }
    expect(pages).toBe(3);
    expect(new Set(ids).size).toBe(45);
    expect(created).toEqual([...created].sort((a, b) => b - a));
    const query = await postJson(
      `${sb.endpoints.tiktok.apiBaseUrl}/v2/video/query/?fields=id,title`,
      { filters: { video_ids: ids.slice(0, 2) } },
      { authorization: `Bearer ${token}` },
    );
    expect(query.body.data.videos.map((v: Loose) => v.id)).toEqual(ids.slice(0, 2));
  });

  it('refuses max_count over 20, missing or unknown fields, and a token without video.list', async () => {
    const token = await tokenFor('user.info.basic,video.list');
    expect((await list(token, { max_count: 21 })).body.error.code).toBe('invalid_params');
    expect((await list(token, {}, '')).body.error.code).toBe('invalid_params');
    expect((await list(token, {}, 'id,secret')).body.error.message).toContain('secret');
    const narrow = await tokenFor('user.info.basic');
    const refused = await list(narrow, {});
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('scope_not_authorized');
  });
});
