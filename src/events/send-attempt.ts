import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { guardedLookup, isNonPublicAddress, RefusedAddressError, type UrlPolicy } from './url-guard.ts';

/**
 * One HTTP attempt of one delivery: POST, no redirect followed (a 3xx is a failed attempt), ended
 * after `timeoutMs` whatever the endpoint does (headers or body trickling in), and at most the first
 * KiB of the answer read (kept for the operator; the rest is never downloaded).
 */
export interface AttemptAnswer {
  /** HTTP status, or null when none came (refused, unreachable, timed out). */
  status: number | null;
  latencyMs: number;
  /** The first KiB of the response body, as text. */
  body: string;
  /** Why there was no status (or a short description of the failure). */
  error: string | null;
}

export const BODY_KEPT_BYTES = 1024;

/**
 * The first KiB of an answer as text the database can store: PostgreSQL text cannot hold U+0000,
 * so a NUL byte (like any byte that is not UTF-8) becomes U+FFFD rather than failing the record.
 */
function keptText(body: Buffer): string {
  return body.subarray(0, BODY_KEPT_BYTES).toString('utf8').replaceAll('\0', '\uFFFD');
}

// Keep-alive: a busy endpoint takes many deliveries a second, each on a socket already open (its
// address was checked when it connected).
const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 64 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 64 }),
};

export function sendAttempt(
  url: string,
  headers: Record<string, string>,
  body: string,
  options: { timeoutMs: number; policy: UrlPolicy },
): Promise<AttemptAnswer> {
  const started = performance.now();
  const target = new URL(url);
  const elapsed = () => Math.round(performance.now() - started);
  const host = target.hostname.replace(/^\[|\]$/g, '');
  if (options.policy.publicOnly && isIP(host) && isNonPublicAddress(host))
    return Promise.resolve({
      status: null,
      latencyMs: 0,
      body: '',
      error: `${host} is not a public address`,
    });
  const transport = target.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (answer: Omit<AttemptAnswer, 'latencyMs'>, keepSocket = false) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (!keepSocket) request.destroy();
      resolve({ ...answer, latencyMs: elapsed() });
    };
    const request = transport.request(
      target,
      {
        method: 'POST',
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'user-agent': 'tether-events/1',
        },
        agent: target.protocol === 'https:' ? agents['https:'] : agents['http:'],
        ...(options.policy.publicOnly ? { lookup: guardedLookup as never } : {}),
      },
      (response) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        const done = (keepSocket: boolean) =>
          finish(
            {
              status: response.statusCode ?? null,
              body: keptText(Buffer.concat(chunks)),
              error: null,
            },
            keepSocket,
          );
        response.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          kept += chunk.length;
          if (kept >= BODY_KEPT_BYTES) done(false);
        });
        response.on('end', () => done(true));
        response.on('error', () => done(false));
      },
    );
    const timer = setTimeout(
      () => finish({ status: null, body: '', error: `no answer within ${options.timeoutMs} ms` }),
      options.timeoutMs,
    );
    request.on('error', (error) =>
      finish({
        status: null,
        body: '',
        error:
          error instanceof RefusedAddressError
            ? error.message
            : `${(error as NodeJS.ErrnoException).code ?? 'error'}: ${error.message}`,
      }),
    );
    request.end(body);
  });
}
