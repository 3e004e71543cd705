import type { FastifyInstance } from 'fastify';
import type { ErrorBody } from './api-types.ts';

/**
 * The dashboard reads and acts through tether's own /v1 API (in-process, by inject), so every
 * page shows what the API shows and every button does what the API does: one set of rules,
 * checks and audit entries, not a second copy of them.
 */
export interface ApiAnswer<T = unknown> {
  status: number;
  /** The parsed JSON; only `T` when the status is 2xx (otherwise the error shape). */
  body: T;
}

export interface DashboardApi {
  get<T>(path: string): Promise<ApiAnswer<T>>;
  send<T = unknown>(method: 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<ApiAnswer<T>>;
}

export function makeDashboardApi(app: FastifyInstance, apiKey: string): DashboardApi {
  const headers = { authorization: `Bearer ${apiKey}` };
  async function call<T>(method: string, url: string, body?: unknown): Promise<ApiAnswer<T>> {
    const response = await app.inject({
      method: method as 'GET',
      url,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      payload: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = response.body;
    let parsed: unknown = null;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    return { status: response.statusCode, body: parsed as T };
  }
  return {
    get: <T>(path: string) => call<T>('GET', path),
    send: <T>(method: string, path: string, body?: unknown) => call<T>(method, path, body),
  };
}

/** The API's error message for a failed answer, or a generic sentence. */
export function errorOf(answer: ApiAnswer<unknown>): { code: string; message: string } {
  const error = (answer.body as ErrorBody | null)?.error;
  return typeof error?.code === 'string' && typeof error.message === 'string'
    ? { code: error.code, message: error.message }
    : { code: 'unexpected', message: `tether answered ${answer.status}.` };
}
