import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { postJson, type SandboxFixture, startSandboxFixture } from '../testing.ts';
import { gmailWatchOf, WATCH_LIFETIME_MS } from './gmail-watch.ts';
import { googleAccessToken } from './google-testing.ts';

describe('gmail watch sandbox', () => {
  let sb: SandboxFixture;
  let token: string;
  let accountId: string;
  let api: string;
  const topicName = 'projects/tether-demo/topics/gmail-push';
  beforeAll(async () => {
    sb = await startSandboxFixture('watch-test');
    api = `${sb.endpoints.google.apiBaseUrl}/gmail/v1/users/me`;
  });
  afterAll(() => sb.server.close());
  beforeEach(async () => {
    await sb.control.reset();
    accountId = (await sb.control.accounts()).google[0]!.sub;
    token = await googleAccessToken(sb, 'https://www.googleapis.com/auth/gmail.readonly');
  });
  const post = (path: string, body: unknown, bearer = token) =>
    postJson(`${api}${path}`, body, { authorization: `Bearer ${bearer}` });

  it('answers users.watch with the mailbox history id and an expiration seven days ahead on the sandbox clock', async () => {
    await sb.control.sizeDataset('google', 'messages', { account: accountId, count: 10, seed: 'w' });
    await sb.control.advanceClock(3 * 86_400_000);
    token = await googleAccessToken(sb, 'https://www.googleapis.com/auth/gmail.readonly');
    const now = Date.parse((await sb.control.clock()).now);
    const res = await post('/watch', { topicName });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ historyId: '1000010', expiration: expect.stringMatching(/^\d+$/) });
    expect(Number(res.body.expiration) - now).toBeGreaterThanOrEqual(WATCH_LIFETIME_MS);
    expect(Number(res.body.expiration) - now).toBeLessThan(WATCH_LIFETIME_MS + 5_000);
    expect(gmailWatchOf(sb.server.state, accountId)).toMatchObject({ topicName, calls: 1 });
    // Watching again renews it.
    await sb.control.advanceClock(86_400_000);
    token = await googleAccessToken(sb, 'https://www.googleapis.com/auth/gmail.readonly');
    const again = await post('/watch', { topicName });
    expect(Number(again.body.expiration)).toBeGreaterThan(Number(res.body.expiration));
    expect(gmailWatchOf(sb.server.state, accountId)?.calls).toBe(2);
  });

  it('refuses a missing or malformed topic, another user, and a bad token; stop ends the watch', async () => {
    expect((await post('/watch', {})).status).toBe(400);
    expect((await post('/watch', { topicName: 'gmail-push' })).status).toBe(400);
    expect((await post('/watch', { topicName, labelFilterBehavior: 'sometimes' })).status).toBe(400);
    expect((await post('/watch', { topicName }, 'nope')).status).toBe(401);
    const other = await postJson(
      `${sb.endpoints.google.apiBaseUrl}/gmail/v1/users/someone@example.org/watch`,
      { topicName },
      { authorization: `Bearer ${token}` },
    );
    expect(other.status).toBe(403);
    expect((await post('/watch', { topicName })).status).toBe(200);
    const stop = await post('/stop', {});
    expect(stop.status).toBe(204);
    expect(gmailWatchOf(sb.server.state, accountId)).toBeUndefined();
  });
});
