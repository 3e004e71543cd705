import { describe, expect, it } from 'vitest';
import { makeCoalescer } from './coalesce.ts';

describe('makeCoalescer', () => {
  it('runs the calls of one turn as one batch and answers each its own, in order', async () => {
    const runs: number[][] = [];
    const double = makeCoalescer(
      async (inputs: number[]) => {
        runs.push(inputs);
        return inputs.map((x) => x * 2);
      },
      { maxBatch: 100, maxInFlight: 1 },
    );
    expect(await Promise.all([1, 2, 3].map(double))).toEqual([2, 4, 6]);
    expect(runs).toEqual([[1, 2, 3]]);
  });

  it('gathers the calls made while a run is in flight into the next run, at most maxBatch each', async () => {
    const runs: number[][] = [];
    let open: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const echo = makeCoalescer(
      async (inputs: number[]) => {
        runs.push(inputs);
        if (runs.length === 1) await gate;
        return inputs;
      },
      { maxBatch: 2, maxInFlight: 1 },
    );
    const first = echo(0);
    await new Promise((resolve) => setImmediate(resolve));
    const later = [1, 2, 3].map(echo);
    open();
    expect(await Promise.all([first, ...later])).toEqual([0, 1, 2, 3]);
    expect(runs).toEqual([[0], [1, 2], [3]]);
  });

  it('rejects only the calls of a run that failed', async () => {
    const flaky = makeCoalescer(
      async (inputs: number[]) => {
        if (inputs.includes(-1)) throw new Error('database blinked');
        return inputs;
      },
      { maxBatch: 1, maxInFlight: 2 },
    );
    const results = await Promise.allSettled([flaky(-1), flaky(5)]);
    expect(results[0]).toMatchObject({ status: 'rejected' });
    expect(results[1]).toEqual({ status: 'fulfilled', value: 5 });
  });
});
