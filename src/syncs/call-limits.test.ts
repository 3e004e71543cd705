import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { acquireLimits, LimitWaitAborted, limitsFor } from './call-limits.ts';

const now = () => Date.now();
let n = 0;

describe('call limits', () => {
  it('keeps at most `concurrent` calls in flight per key, serving waiters in order', async () => {
    const covering = [{ key: `k${++n}`, limit: { concurrent: 2 } }];
    let inFlight = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 6 }, async (_, i) => {
        const release = await acquireLimits(covering, new AbortController().signal, now);
        order.push(i);
        peak = Math.max(peak, ++inFlight);
        await sleep(20);
        inFlight--;
        release();
      }),
    );
    expect(peak).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('spaces calls so that no sliding second holds more than perSecond starts', async () => {
    const covering = [{ key: `k${++n}`, limit: { perSecond: 3 } }];
    const starts: number[] = [];
    for (let i = 0; i < 5; i++) {
      const release = await acquireLimits(covering, new AbortController().signal, now);
      starts.push(Date.now());
      release();
    }
    expect(starts[3]! - starts[0]!).toBeGreaterThanOrEqual(1000);
    expect(starts[4]! - starts[1]!).toBeGreaterThanOrEqual(1000);
  });

  it('gives up a wait when the run stops, and leaves the place to others', async () => {
    const covering = [{ key: `k${++n}`, limit: { concurrent: 1 } }];
    const held = await acquireLimits(covering, new AbortController().signal, now);
    const stop = new AbortController();
    const waiting = acquireLimits(covering, stop.signal, now);
    stop.abort();
    await expect(waiting).rejects.toBeInstanceOf(LimitWaitAborted);
    held();
    const next = await acquireLimits(covering, new AbortController().signal, now);
    next();
  });

  it('keys tenant limits by integration and the tenant header, connection limits by connection', () => {
    const limits = {
      perConnection: { perSecond: 3 },
      perTenant: { header: 'Xero-Tenant-Id', concurrent: 5 },
    };
    const keys = limitsFor(limits, {
      integrationKey: 'xero',
      connectionId: 'c1',
      headers: { 'xero-tenant-id': 't1' },
    }).map((c) => c.key);
    expect(keys).toEqual(['connection:c1', 'tenant:xero:t1']);
    expect(limitsFor(limits, { integrationKey: 'xero', connectionId: 'c1', headers: {} })).toHaveLength(1);
    expect(limitsFor(undefined, { integrationKey: 'x', connectionId: 'c', headers: {} })).toEqual([]);
  });
});
