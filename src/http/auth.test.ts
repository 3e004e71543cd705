import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestTether, type TestTether } from '../../test/harness/tether.ts';
import { DEFAULT_AUTH_FAILURE_LIMITS } from './auth-failure-limiter.ts';

describe('failed authentication is rate-limited per client address', () => {
  let t: TestTether;
  beforeAll(async () => {
    t = await startTestTether();
  });
  afterAll(() => t.close());

  const call = (remoteAddress: string, authorization?: string, url = '/v1/audit') =>
    t.app.inject({ method: 'GET', url, remoteAddress, headers: authorization ? { authorization } : {} });

  const counted = async (outcome: string) => {
    const text = (await call('127.0.0.1', t.auth.authorization, '/metrics')).body;
    const line = text
      .split('\n')
      .find((l) => l.startsWith(`tether_auth_failures_total{outcome="${outcome}"}`));
    return line ? Number(line.split(' ').at(-1)) : 0;
  };

  it('answers 429 rate_limited with Retry-After to a burst of wrong keys, and never slows the right key', async () => {
    const attacker = '203.0.113.7';
    const burst = DEFAULT_AUTH_FAILURE_LIMITS.maxFailures * 3;
    const statuses: number[] = [];
    for (let i = 0; i < burst; i++) {
      const res = await call(attacker, i % 2 ? `Bearer wrong-${i}` : undefined);
      statuses.push(res.statusCode);
      if (res.statusCode === 429) {
        expect(res.json()).toEqual({ error: { code: 'rate_limited', message: expect.any(String) } });
        expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      } else {
        expect(res.statusCode).toBe(401);
      }
      // The right key from the same address, in the middle of the burst: always through.
      if (i % 10 === 0) expect((await call(attacker, t.auth.authorization)).statusCode).toBe(200);
    }
    expect(statuses.filter((s) => s === 401)).toHaveLength(DEFAULT_AUTH_FAILURE_LIMITS.maxFailures);
    expect(statuses.filter((s) => s === 429)).toHaveLength(burst - DEFAULT_AUTH_FAILURE_LIMITS.maxFailures);
    expect((await call(attacker, t.auth.authorization)).statusCode).toBe(200);

    // Another address is not affected, and /metrics shares the same limit.
    expect((await call('203.0.113.8', 'Bearer wrong')).statusCode).toBe(401);
    expect((await call(attacker, 'Bearer wrong', '/metrics')).statusCode).toBe(429);

    expect(await counted('unauthorized')).toBe(DEFAULT_AUTH_FAILURE_LIMITS.maxFailures + 1);
    expect(await counted('rate_limited')).toBe(burst - DEFAULT_AUTH_FAILURE_LIMITS.maxFailures + 1);
  });
});
