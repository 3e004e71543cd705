import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { get, type SandboxFixture, startSandboxFixture } from './testing.ts';

// Faults, rate limits and call counts, driven over real HTTP against Google's userinfo route
// (any route with an endpoint key behaves the same).

describe('fault injection', () => {
  let sb: SandboxFixture;
  let userinfo: string;
  beforeAll(async () => {
    sb = await startSandboxFixture('faults-test');
    userinfo = sb.endpoints.google.userinfoUrl!;
  });
  afterAll(() => sb.server.close());
  beforeEach(() => sb.control.reset());

  it('answers the injected status for the next N calls, then normally again', async () => {
    await sb.control.failNext('google.userinfo', 503, {
      times: 2,
      body: { error: 'backendError' },
      headers: { 'retry-after': '7' },
    });
    const first = await get(userinfo);
    expect(first.status).toBe(503);
    expect(first.body).toEqual({ error: 'backendError' });
    expect(first.headers.get('retry-after')).toBe('7');
    expect((await get(userinfo)).status).toBe(503);
    // Back to the route's own answer (401: no token).
    expect((await get(userinfo)).status).toBe(401);
    expect(await sb.control.faults()).toEqual([]);
  });

  it('counts calls exactly, failed ones included', async () => {
    await sb.control.failNext('google.userinfo', 500, { times: 2 });
    for (let i = 0; i < 5; i++) await get(userinfo);
    expect(await sb.control.callCount('google.userinfo')).toBe(5);
    const { recent } = await sb.control.calls();
    expect(recent.map((c) => c.status)).toEqual([401, 401, 401, 500, 500]);
    await sb.control.resetCalls();
    expect(await sb.control.callCount('google.userinfo')).toBe(0);
  });

  it('counts token calls per grant type', async () => {
    await fetch(sb.endpoints.google.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=refresh_token&refresh_token=nope&client_id=sandbox-google-client&client_secret=sandbox-google-secret',
    });
    const { counts } = await sb.control.calls();
    expect(counts['google.token']).toBe(1);
    expect(counts['google.token#refresh_token']).toBe(1);
    expect(counts['google.token#authorization_code']).toBeUndefined();
  });

  it('covers every endpoint of a provider with a wildcard pattern', async () => {
    await sb.control.failNext('google.*', 502, { times: 2 });
    expect((await get(userinfo)).status).toBe(502);
    expect((await get(`${sb.endpoints.google.apiBaseUrl}/gmail/v1/users/me/profile`)).status).toBe(502);
  });

  it('adds measurable latency', async () => {
    await sb.control.latency('google.userinfo', 300, { times: 1 });
    const started = performance.now();
    await get(userinfo);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    const quick = performance.now();
    await get(userinfo);
    expect(performance.now() - quick).toBeLessThan(250);
  });

  it('hangs until the client times out', async () => {
    await sb.control.hang('google.userinfo', { times: 1 });
    const started = performance.now();
    const error = await fetch(userinfo, { signal: AbortSignal.timeout(200) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('TimeoutError');
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    expect((await get(userinfo)).status).toBe(401);
  });

  it('drops the connection so a fetch client sees a socket error', async () => {
    await sb.control.drop('google.userinfo', { times: 1 });
    const error = await fetch(userinfo).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect(String((error as Error & { cause?: unknown }).cause)).toMatch(
      /other side closed|socket|ECONNRESET/i,
    );
    expect((await get(userinfo)).status).toBe(401);
  });

  it('fails a seeded share of calls for a rate', async () => {
    await sb.control.addFault('google.userinfo', { kind: 'respond', status: 500 }, { rate: 0.5 });
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) statuses.push((await get(userinfo)).status);
    const failed = statuses.filter((s) => s === 500).length;
    expect(failed).toBeGreaterThan(8);
    expect(failed).toBeLessThan(32);

    // The same seed fails the same calls after a reset.
    await sb.control.reset();
    await sb.control.addFault('google.userinfo', { kind: 'respond', status: 500 }, { rate: 0.5 });
    const again: number[] = [];
    for (let i = 0; i < 40; i++) again.push((await get(userinfo)).status);
    expect(again).toEqual(statuses);
  });

  it('rate limits N calls per window and lifts the limit when the window passes', async () => {
    await sb.control.rateLimit({ endpoint: 'google.userinfo', limit: 2, windowSec: 10 });
    expect((await get(userinfo)).status).toBe(401);
    expect((await get(userinfo)).status).toBe(401);
    const limited = await get(userinfo);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(9);
    await sb.control.advanceClock(10_000);
    expect((await get(userinfo)).status).toBe(401);
  });

  it('leaves the control API itself alone', async () => {
    await sb.control.failNext('*', 500, { times: 100 });
    expect(await sb.control.callCount('google.userinfo')).toBe(0);
    expect(await sb.control.clock()).toMatchObject({ offsetMs: 0 });
  });

  it('rejects a malformed fault with validation_failed', async () => {
    const answer = await fetch(`${sb.server.url}/_control/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ endpoint: 'google.userinfo', action: { kind: 'explode' } }),
    });
    expect(answer.status).toBe(400);
    const body = (await answer.json()) as { error: { code: string } };
    expect(body.error.code).toBe('validation_failed');
  });
});
