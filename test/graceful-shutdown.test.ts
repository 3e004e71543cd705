import { describe, expect, it } from 'vitest';
import { startTestTether } from './harness/tether.ts';

describe('graceful shutdown', () => {
  it('finishes an in-flight request, then refuses new connections', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered!: () => void;
    const inHandler = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const t = await startTestTether({
      listen: true,
      publicPlugins: [
        async (app) => {
          app.get('/test/slow', async () => {
            entered();
            await held;
            return { finished: true };
          });
        },
      ],
    });
    const inflight = fetch(`${t.url}/test/slow`);
    await inHandler;
    const stopped = t.stop();
    // Shutdown waits for the request instead of cutting it off.
    await new Promise((resolve) => setTimeout(resolve, 200));
    release();
    const res = await inflight;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ finished: true });
    await stopped;
    await expect(fetch(`${t.url}/healthz`)).rejects.toThrow();
    await t.testDatabase.dispose();
  });
});
