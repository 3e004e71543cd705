import { setTimeout as sleepFor } from 'node:timers/promises';
import { connectionContext, openCredentials } from '../connections/credentials.ts';
import type { TokenService } from '../connections/token-service.ts';
import type { Sealer } from '../crypto/seal.ts';
import { AppError } from '../errors.ts';
import { integrationContext } from '../integrations/integration-store.ts';
import type { ProviderRuntime } from '../providers/provider.ts';
import { acquireLimits, LimitWaitAborted, limitsFor } from './call-limits.ts';
import type { SyncContext } from './definition.ts';

/**
 * The one door a sync calls its provider through. Tokens come from the token service (the token
 * lifecycle: its lease, its backoff); a 401 the provider calls an auth failure gets one forced
 * refresh and one retry. 429 (and 503 with Retry-After) is waited out, as long as the provider
 * says, capped, and never past the run's deadline; other 5xx and network failures are retried with
 * a short backoff, then fail the run as bad_gateway. reauthorization_required and not_connected
 * from the token service end the run with that code.
 */

export interface SyncHttpDeps {
  tokens: TokenService;
  sealer: Sealer;
  runtime: ProviderRuntime;
}

export interface SyncHttpOptions {
  connectionId: string;
  /** Aborted on shutdown or at the run's deadline. */
  signal: AbortSignal;
  /** Longest single wait for a Retry-After. */
  maxRetryAfterMs?: number;
  /** 429 answers waited out per call before the run fails with rate_limited. */
  maxRateLimitWaits?: number;
}

const SERVER_RETRIES = 3;

export class SyncStopped extends Error {
  constructor() {
    super('The sync run was stopped (shutdown or its time slice ended).');
    this.name = 'SyncStopped';
  }
}

export async function makeSyncContext(deps: SyncHttpDeps, options: SyncHttpOptions): Promise<SyncContext> {
  const { connectionId, signal } = options;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 120_000;
  const maxRateLimitWaits = options.maxRateLimitWaits ?? 20;
  const first = await deps.tokens.load(connectionId);

  const sleep = async (ms: number) => {
    if (signal.aborted) throw new SyncStopped();
    try {
      await sleepFor(ms, undefined, { signal });
    } catch {
      throw new SyncStopped();
    }
  };

  let lastToken: string | undefined;

  async function once(path: string, init: RequestInit): Promise<Response> {
    const token = await deps.tokens.getAccessToken(connectionId);
    lastToken = token.accessToken;
    const { row, integration, provider } = await deps.tokens.load(connectionId);
    const credentials = openCredentials(deps.sealer, row);
    if (!credentials) throw new AppError('not_connected', 'This connection holds no credentials.');
    const ctx = integrationContext(deps.sealer, integration);
    const connection = connectionContext(row, { ...credentials, accessToken: token.accessToken });
    const base = provider.proxy.baseUrl(ctx, connection);
    if (base === undefined && !/^https?:\/\//.test(path)) {
      throw new AppError('proxy_not_configured', 'The integration has no API base URL to sync from.');
    }
    const url = /^https?:\/\//.test(path) ? path : `${base!.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
    const given = Object.fromEntries(new Headers(init.headers).entries());
    const headers = {
      ...given,
      ...provider.proxy.headers(ctx, connection, given),
      authorization: `Bearer ${token.accessToken}`,
    };
    const covering = limitsFor(provider.limits, { integrationKey: integration.key, connectionId, headers });
    if (covering.length === 0) return deps.runtime.fetch(url, { ...init, headers, signal });
    // A call counts against the provider's limits until its answer is read in full.
    let release: () => void;
    try {
      release = await acquireLimits(covering, signal, () => deps.runtime.now().getTime());
    } catch (error) {
      if (error instanceof LimitWaitAborted) throw new SyncStopped();
      throw error;
    }
    try {
      const response = await deps.runtime.fetch(url, { ...init, headers, signal });
      const body = await response.arrayBuffer();
      return new Response(response.status === 204 || response.status === 304 ? null : body, {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      });
    } finally {
      release();
    }
  }

  async function request(path: string, init: RequestInit = {}): Promise<Response> {
    let refreshed = false;
    let serverFailures = 0;
    let rateLimited = 0;
    for (;;) {
      if (signal.aborted) throw new SyncStopped();
      let response: Response;
      try {
        response = await once(path, init);
      } catch (error) {
        if (signal.aborted) throw new SyncStopped();
        if (error instanceof AppError) throw error;
        if (++serverFailures > SERVER_RETRIES)
          throw new AppError('bad_gateway', `${first.provider.displayName} could not be reached.`, {
            cause: error,
          });
        await sleep(250 * 2 ** serverFailures);
        continue;
      }
      if (response.status === 401 && !refreshed) {
        const body = await response.clone().text();
        if (first.provider.proxy.isAuthFailure(401, body)) {
          await response.body?.cancel();
          refreshed = true;
          // The token lifecycle decides: a refresh, or (no way to renew) reauthorization_required.
          await deps.tokens.replaceRejectedToken(connectionId, lastToken!);
          continue;
        }
      }
      const retryAfter = retryAfterMs(response.headers.get('retry-after'));
      if (response.status === 429 || (response.status === 503 && retryAfter !== undefined)) {
        await response.body?.cancel();
        // A wait longer than a run should sit through (Xero's daily limit): stop the run now, and
        // let a later one carry on from the checkpoint, instead of asking again and again.
        if (retryAfter !== undefined && retryAfter > maxRetryAfterMs)
          throw new AppError(
            'rate_limited',
            `${first.provider.displayName} asks to wait ${Math.ceil(retryAfter / 1000)} s before the next call.`,
          );
        if (++rateLimited > maxRateLimitWaits)
          throw new AppError('rate_limited', `${first.provider.displayName} kept answering 429.`);
        await sleep(retryAfter ?? Math.min(1000 * rateLimited, maxRetryAfterMs));
        continue;
      }
      if (response.status >= 500) {
        await response.body?.cancel();
        if (++serverFailures > SERVER_RETRIES)
          throw new AppError('bad_gateway', `${first.provider.displayName} answered ${response.status}.`);
        await sleep(250 * 2 ** serverFailures);
        continue;
      }
      return response;
    }
  }

  return { connectionId, metadata: first.row.metadata, request, sleep };
}

/** Retry-After in seconds or as an HTTP date, in milliseconds; undefined when absent or unreadable. */
export function retryAfterMs(value: string | null): number | undefined {
  if (value === null) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
