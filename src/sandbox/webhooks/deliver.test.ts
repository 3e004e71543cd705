import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { deliver } from './deliver.ts';
import { makeConnectOutbound, makeConnectPayload } from './docusign-connect.ts';
import { makeStripeOutbound } from './stripe.ts';
import { makeStripeEvent } from './stripe-events.ts';
import { type Answer, type Receiver, startReceiver } from './test-support.ts';

let receiver: Receiver | undefined;
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
});
const start = async (answer?: (n: number) => Answer) => {
  receiver = await startReceiver(answer);
  return receiver;
};

const stripeBatch = (n: number) =>
  Array.from({ length: n }, (_, i) =>
    makeStripeOutbound(makeStripeEvent('invoice.paid', { seed: `batch:${i}` }), { secrets: 'whsec_x' }),
  );
const idsOf = (r: Receiver) => r.received.map((x) => JSON.parse(x.body).id as string);

describe('delivery engine', () => {
  it('delivers each event `duplicates` times, byte-identical', async () => {
    const r = await start();
    const report = await deliver(r.url, stripeBatch(2), { duplicates: 3 });
    expect(report).toMatchObject({ delivered: 6, failed: 0 });
    const ids = idsOf(r);
    expect(ids).toHaveLength(6);
    expect(new Set(ids).size).toBe(2);
    const copies = r.received.filter((x) => JSON.parse(x.body).id === ids[0]);
    expect(new Set(copies.map((c) => c.body)).size).toBe(1);
  });

  it('keeps `concurrency` requests in flight at once', async () => {
    const r = await start(() => ({ delayMs: 150 }));
    const started = performance.now();
    await deliver(r.url, stripeBatch(4), { concurrency: 4 });
    expect(r.maxInFlight()).toBe(4);
    expect(performance.now() - started).toBeLessThan(550);
  });

  it('sends one at a time without concurrency', async () => {
    const r = await start(() => ({ delayMs: 20 }));
    await deliver(r.url, stripeBatch(3));
    expect(r.maxInFlight()).toBe(1);
  });

  it('reorders a batch the same way for the same seed and differently for another', async () => {
    const batch = stripeBatch(8);
    const inOrder = batch.map((o) => o.dedupeKey);
    const orderFor = async (seed: string) => {
      const r = await start();
      await deliver(r.url, batch, { reorder: true, seed });
      const ids = idsOf(r);
      await r.close();
      receiver = undefined;
      return ids;
    };
    const a = await orderFor('s1');
    expect(await orderFor('s1')).toEqual(a);
    expect(a).not.toEqual(inOrder);
    expect([...a].sort()).toEqual([...inOrder].sort());
    expect(await orderFor('s2')).not.toEqual(a);
  });

  it('retries DocuSign after a 500 with retryCount bumped and a valid signature', async () => {
    const r = await start((n) => (n === 0 ? { status: 500, body: 'boom' } : {}));
    const payload = makeConnectPayload('envelope-completed');
    const report = await deliver(r.url, [makeConnectOutbound(payload, { keys: ['connect-key'] })], {
      retry: { timeScale: 0 },
    });
    expect(report.attempts.map((a) => [a.attempt, a.status, a.body])).toEqual([
      [1, 500, 'boom'],
      [2, 200, 'ok'],
    ]);
    expect(report).toMatchObject({ delivered: 1, failed: 0 });
    const [first, second] = r.received;
    expect(JSON.parse(first!.body).retryCount).toBe(0);
    expect(JSON.parse(second!.body).retryCount).toBe(1);
    const expected = createHmac('sha256', 'connect-key').update(second!.body).digest('base64');
    expect(second!.headers['x-docusign-signature-1']).toBe(expected);
  });

  it('retries Stripe with the same event and a fresh signature timestamp', async () => {
    const r = await start((n) => (n < 2 ? { status: 503 } : {}));
    let clock = 1_800_000_000_000;
    const report = await deliver(r.url, stripeBatch(1), {
      retry: { timeScale: 0 },
      now: () => {
        clock += 60_000;
        return new Date(clock);
      },
    });
    expect(report.attempts).toHaveLength(3);
    expect(new Set(idsOf(r)).size).toBe(1);
    const stamps = r.received.map((x) => /t=(\d+)/.exec(x.headers['stripe-signature']!)![1]);
    expect(new Set(stamps).size).toBe(3);
  });

  it('stops after maxAttempts and counts the job failed', async () => {
    const r = await start(() => ({ status: 410 }));
    const report = await deliver(r.url, stripeBatch(1), { retry: { maxAttempts: 3, timeScale: 0 } });
    expect(report).toMatchObject({ delivered: 0, failed: 1 });
    expect(report.attempts.map((a) => a.status)).toEqual([410, 410, 410]);
  });

  it('counts a slow answer as a timeout and retries it', async () => {
    const r = await start((n) => (n === 0 ? { delayMs: 500 } : {}));
    const report = await deliver(r.url, stripeBatch(1), { timeoutMs: 100, retry: { timeScale: 0 } });
    expect(report.attempts[0]).toMatchObject({ ok: false, status: null, error: 'timeout' });
    expect(report.attempts[1]).toMatchObject({ ok: true, status: 200 });
  });

  it('waits the sender schedule scaled by timeScale between attempts', async () => {
    const r = await start((n) => (n === 0 ? { status: 500 } : {}));
    const report = await deliver(r.url, stripeBatch(1), {
      retry: { delaysMs: [60_000], timeScale: 1 / 600 },
    });
    const gap = Date.parse(report.attempts[1]!.startedAt) - Date.parse(report.attempts[0]!.startedAt);
    expect(gap).toBeGreaterThanOrEqual(95);
  });

  it('reports a refused connection as a network error', async () => {
    const r = await start();
    const url = r.url;
    await r.close();
    receiver = undefined;
    const report = await deliver(url, stripeBatch(1));
    expect(report.attempts[0]).toMatchObject({ ok: false, status: null, error: 'network' });
  });
});
