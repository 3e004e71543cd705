import { performance } from 'node:perf_hooks';

/**
 * Ingest first. Answering webhooks has a deadline (a sender that waits too long delivers again,
 * or gives up); processing them has none. So while this process is saturated by deliveries, the
 * processing workers give way and catch up once the burst is over; other processes on the same
 * database, not saturated, go on taking the jobs meanwhile.
 *
 * Saturated = this process's event loop was busy more than `threshold` of the last `windowMs`
 * (sampled every `sampleMs`; a one-second window, because over 100 ms it swings too much to
 * steer by) AND deliveries are still coming in. Once saturated it stays so until the busy share
 * falls below `release`: under a burst the share dips whenever tether waits on the database, and
 * each dip would let processing take a slice of the burst. The `receiving` part keeps processing
 * from giving way to itself once the deliveries stop.
 */
export interface IngestPressure {
  saturated(): boolean;
  stop(): void;
}

export interface IngestPressureOptions {
  threshold?: number;
  release?: number;
  windowMs?: number;
  sampleMs?: number;
}

export function makeIngestPressure(
  receiving: () => boolean,
  options: IngestPressureOptions = {},
): IngestPressure {
  const threshold = options.threshold ?? 0.7;
  const release = options.release ?? 0.5;
  let busy = false;
  const sampleMs = options.sampleMs ?? 100;
  const samples = new Array<number>(Math.max(1, Math.round((options.windowMs ?? 1000) / sampleMs))).fill(0);
  let next = 0;
  let previous = performance.eventLoopUtilization();
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    samples[next] = performance.eventLoopUtilization(now, previous).utilization;
    next = (next + 1) % samples.length;
    previous = now;
    const utilization = samples.reduce((sum, value) => sum + value, 0) / samples.length;
    busy = utilization > (busy ? release : threshold);
  }, sampleMs);
  timer.unref();
  return {
    saturated: () => busy && receiving(),
    stop: () => clearInterval(timer),
  };
}
