import { setTimeout as sleep } from 'node:timers/promises';
import type { Outbound } from './delivery.ts';
import { makeRandom } from './random.ts';
import { retryDelays, SENDER_POLICIES } from './retry-schedules.ts';

// The delivery engine: sends outbounds to one target the way real senders misbehave.
// A batch becomes jobs, one per (outbound, copy) — `duplicates` copies each, as at-least-once
// senders do — optionally shuffled with a seed (`reorder`: no sender promises order), and run
// by `concurrency` workers. Each job moves: attempt → 2xx: delivered
//                                            → failure, retries left: wait (scaled), attempt again
//                                            → failure, none left: failed.
// A failure is any non-2xx (redirects are not followed, as senders don't), a timeout or a
// network error. Every attempt is rebuilt by its outbound (fresh signature, bumped
// retryCount, …) and recorded in the report.

export interface RetryOptions {
  /** Attempts per job, the first included; defaults to the sender's own limit. */
  maxAttempts?: number;
  /** Multiplies the sender's real delays; default 1/3600 (an hour of backoff takes a second). */
  timeScale?: number;
  /** Real-time delays to use instead of the sender's schedule (still scaled). */
  delaysMs?: readonly number[];
}

export interface DeliverOptions {
  duplicates?: number;
  concurrency?: number;
  /** Shuffle the jobs; with `seed` the order is reproducible, without it random. */
  reorder?: boolean;
  seed?: string | number;
  retry?: boolean | RetryOptions;
  /** Per attempt; defaults to the sender's own timeout. */
  timeoutMs?: number;
  /** The sandbox clock: signatures and timestamps use it. */
  now?: () => Date;
  signal?: AbortSignal;
}

export interface AttemptReport {
  /** Position of the outbound in the batch given. */
  index: number;
  /** 1 … duplicates. */
  copy: number;
  attempt: number;
  dedupeKey: string;
  startedAt: string;
  ms: number;
  ok: boolean;
  status: number | null;
  body: string;
  error?: 'timeout' | 'network';
  errorMessage?: string;
  request: { headers: Record<string, string>; body: string };
}

export interface DeliveryReport {
  attempts: AttemptReport[];
  /** Jobs (outbound index and copy) in the order they were started. */
  order: { index: number; copy: number }[];
  delivered: number;
  failed: number;
}

const MAX_RESPONSE_CHARS = 64 * 1024;

export async function deliver(
  target: string | URL,
  outbounds: readonly Outbound[],
  options: DeliverOptions = {},
): Promise<DeliveryReport> {
  const duplicates = positiveInt(options.duplicates ?? 1, 'duplicates');
  const concurrency = positiveInt(options.concurrency ?? 1, 'concurrency');
  const now = options.now ?? (() => new Date());
  let jobs = outbounds.flatMap((_, index) =>
    Array.from({ length: duplicates }, (_, c) => ({ index, copy: c + 1 })),
  );
  if (options.reorder) jobs = makeRandom(options.seed).shuffle(jobs);

  const report: DeliveryReport = { attempts: [], order: [], delivered: 0, failed: 0 };
  let cursor = 0;
  const worker = async () => {
    while (cursor < jobs.length) {
      const job = jobs[cursor++]!;
      report.order.push(job);
      const ok = await runJob(String(target), outbounds[job.index]!, job, options, now, report.attempts);
      if (ok) report.delivered++;
      else report.failed++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, jobs.length) }, worker));
  return report;
}

async function runJob(
  target: string,
  outbound: Outbound,
  job: { index: number; copy: number },
  options: DeliverOptions,
  now: () => Date,
  attempts: AttemptReport[],
): Promise<boolean> {
  const policy = SENDER_POLICIES[outbound.source];
  const retry = options.retry === true ? {} : options.retry || undefined;
  const delays = retry ? (retry.delaysMs ?? retryDelays(policy.schedule)) : [];
  const maxAttempts = retry ? Math.min(retry.maxAttempts ?? Number.POSITIVE_INFINITY, delays.length + 1) : 1;
  const timeScale = retry?.timeScale ?? 1 / 3600;

  for (let attempt = 1; ; attempt++) {
    const startedAt = now();
    const request = await outbound.build({ attempt, now: startedAt });
    const result = await send(target, request, options.timeoutMs ?? policy.timeoutMs, options.signal);
    attempts.push({
      ...job,
      attempt,
      dedupeKey: outbound.dedupeKey,
      startedAt: startedAt.toISOString(),
      ...result,
      request: { headers: request.headers, body: request.body },
    });
    if (result.ok) return true;
    if (attempt >= maxAttempts) return false;
    await sleep(delays[attempt - 1]! * timeScale, undefined, { signal: options.signal });
  }
}

type SendResult = Pick<AttemptReport, 'ms' | 'ok' | 'status' | 'body' | 'error' | 'errorMessage'>;

async function send(
  target: string,
  request: { method: string; headers: Record<string, string>; body: string },
  timeoutMs: number,
  outer?: AbortSignal,
): Promise<SendResult> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = outer ? AbortSignal.any([outer, timeout]) : timeout;
  const started = performance.now();
  const ms = () => Math.round(performance.now() - started);
  try {
    const res = await fetch(target, { ...request, redirect: 'manual', signal });
    const body = (await res.text()).slice(0, MAX_RESPONSE_CHARS);
    return { ms: ms(), ok: res.status >= 200 && res.status < 300, status: res.status, body };
  } catch (err) {
    if (outer?.aborted) throw err;
    const timedOut = timeout.aborted;
    return {
      ms: ms(),
      ok: false,
      status: null,
      body: '',
      error: timedOut ? 'timeout' : 'network',
      errorMessage: timedOut ? `no response within ${timeoutMs} ms` : messageOf(err),
    };
  }
}

function messageOf(err: unknown): string {
  const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return err instanceof Error ? `${err.message}${cause}` : String(err);
}

function positiveInt(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new TypeError(`"${name}" must be a positive integer`);
  return value;
}
