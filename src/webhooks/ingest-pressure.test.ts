import { afterEach, describe, expect, it } from 'vitest';
import { type IngestPressure, makeIngestPressure } from './ingest-pressure.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Keeps the event loop busy in slices, as a process answering deliveries flat out does. */
async function busyFor(ms: number) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const slice = Date.now() + 20;
    while (Date.now() < slice) {
      // spin
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('ingest pressure', () => {
  let pressure: IngestPressure | undefined;
  afterEach(() => pressure?.stop());

  it('is saturated once the event loop has been busy for most of the window while deliveries come in', async () => {
    pressure = makeIngestPressure(() => true, { windowMs: 200, sampleMs: 20 });
    await sleep(250);
    expect(pressure.saturated()).toBe(false);
    await busyFor(400);
    expect(pressure.saturated()).toBe(true);
    await sleep(300);
    expect(pressure.saturated()).toBe(false);
  });

  it('stays saturated through the dips of a burst, until the load falls well below the threshold', async () => {
    pressure = makeIngestPressure(() => true, { threshold: 0.7, release: 0.2, windowMs: 200, sampleMs: 20 });
    await busyFor(400);
    expect(pressure.saturated()).toBe(true);
    // About 60% busy: under the threshold, over the release.
    const until = Date.now() + 400;
    while (Date.now() < until) {
      const slice = Date.now() + 15;
      while (Date.now() < slice) {
        // spin
      }
      await sleep(10);
    }
    expect(pressure.saturated()).toBe(true);
    await sleep(300);
    expect(pressure.saturated()).toBe(false);
  });

  it('is never saturated when no deliveries come in, however busy the loop', async () => {
    pressure = makeIngestPressure(() => false, { windowMs: 200, sampleMs: 20 });
    await busyFor(400);
    expect(pressure.saturated()).toBe(false);
  });
});
