import {
  classifyAnswer,
  type FailureContext,
  invalidResponse,
  isRecord,
  networkFailure,
  type ProviderAnswer,
} from './failure.ts';
import { ProviderError, type ProviderRuntime, type TokenSet } from './provider.ts';

/**
 * The one client of every provider's token endpoint (and of their other OAuth calls: userinfo,
 * revocation, Instagram's graph exchange). Operations come in pairs, as in oauth4webapi:
 * `callProvider` sends and reads the answer, throwing a classified ProviderError for anything
 * but success (see failure.ts); `readTokenSet` checks a success body and normalises it.
 *
 * Client authentication: `client_secret_basic` (RFC 6749 §2.3.1: id and secret form-encoded,
 * then base64) or `client_secret_post` (in the body, under `idParam`: TikTok's `client_key`).
 * Bodies are form-encoded, or JSON (Notion); GET calls carry their parameters in the query
 * (Instagram's graph exchange and refresh).
 */

export type ClientAuth =
  | { method: 'client_secret_basic'; clientId: string; clientSecret: string }
  | { method: 'client_secret_post'; clientId: string; clientSecret: string; idParam?: string }
  | { method: 'none' };

export interface ProviderCall {
  /** For messages: 'Xero'. */
  provider: string;
  /** For messages: 'refresh', 'code exchange', 'userinfo'. */
  operation: string;
  url: string;
  method?: 'GET' | 'POST' | 'DELETE';
  /** Sent as the form or JSON body (POST), or in the query (GET). */
  params?: Record<string, string>;
  body?: 'form' | 'json';
  clientAuth?: ClientAuth;
  /** An access token for `Authorization: Bearer`. */
  bearer?: string;
  headers?: Record<string, string>;
  /** Provider codes that mean "refused, the grant lives" for this call. */
  refusedCodes?: string[];
  /** Whether a 2xx with an empty or non-JSON body is fine (revocation endpoints). */
  allowEmpty?: boolean;
}

/** Sends the call. Success: the parsed JSON object ({} when empty and allowed). Anything else throws. */
export async function callProvider(
  rt: ProviderRuntime,
  call: ProviderCall,
): Promise<Record<string, unknown>> {
  const json = await callProviderJson(rt, call);
  if (isRecord(json)) return json;
  if (call.allowEmpty) return {};
  throw invalidResponse(failureContext(rt, call), 200, 'the answer is not a JSON object');
}

/** Sends the call. Success: the parsed JSON, whatever its shape (Xero's /connections is an array). */
export async function callProviderJson(rt: ProviderRuntime, call: ProviderCall): Promise<unknown> {
  const context = failureContext(rt, call);
  const request = buildRequest(call);
  let answer: ProviderAnswer;
  try {
    const response = await rt.fetch(request.url, request.init);
    const text = await response.text();
    answer = { status: response.status, headers: response.headers, json: parseJson(text) };
    if (answer.json === undefined && text.trim() === '' && call.allowEmpty && response.ok) return {};
  } catch (cause) {
    if (cause instanceof ProviderError) throw cause;
    throw networkFailure(cause, context);
  }
  const { status, json } = answer;
  if (status < 200 || status >= 300) throw classifyAnswer(answer, context);
  // Slack answers its failures with HTTP 200 and ok: false.
  if (isRecord(json) && json.ok === false) throw classifyAnswer(answer, context);
  if (json === undefined) {
    if (call.allowEmpty) return {};
    throw invalidResponse(context, status, 'the answer is not JSON');
  }
  return json;
}

/** A token endpoint's success body, normalised. Provider extras are read by the provider. */
export function readTokenSet(
  call: Pick<ProviderCall, 'provider' | 'operation'>,
  body: Record<string, unknown>,
): TokenSet {
  const accessToken = body.access_token;
  if (typeof accessToken !== 'string' || accessToken === '') {
    const context = { provider: call.provider, operation: call.operation, secrets: [], now: new Date() };
    throw invalidResponse(context, 200, 'the answer has no access_token');
  }
  const refresh = body.refresh_token;
  return {
    accessToken,
    refreshToken:
      typeof refresh === 'string' && refresh !== '' ? refresh : refresh === null ? null : undefined,
    expiresIn: seconds(body.expires_in),
    refreshExpiresIn: seconds(body.refresh_expires_in),
    scope: Array.isArray(body.scope)
      ? body.scope.join(' ')
      : typeof body.scope === 'string'
        ? body.scope
        : undefined,
  };
}

/** Both halves: the call, then the token set. */
export async function requestTokenSet(rt: ProviderRuntime, call: ProviderCall): Promise<TokenSet> {
  return readTokenSet(call, await callProvider(rt, call));
}

function buildRequest(call: ProviderCall): { url: URL; init: RequestInit } {
  if (!URL.canParse(call.url)) {
    throw new ProviderError(
      'configuration',
      call.provider,
      `${call.provider} ${call.operation}: the URL is not valid`,
    );
  }
  const url = new URL(call.url);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ProviderError(
      'configuration',
      call.provider,
      `${call.provider} ${call.operation}: the URL is not http(s)`,
    );
  }
  const method = call.method ?? 'POST';
  const headers = new Headers({ accept: 'application/json', ...call.headers });
  const params: Record<string, string> = { ...call.params };
  const auth = call.clientAuth ?? { method: 'none' };
  if (auth.method === 'client_secret_basic') {
    headers.set(
      'authorization',
      `Basic ${btoa(`${formEncode(auth.clientId)}:${formEncode(auth.clientSecret)}`)}`,
    );
  } else if (auth.method === 'client_secret_post') {
    params[auth.idParam ?? 'client_id'] = auth.clientId;
    params.client_secret = auth.clientSecret;
  }
  if (call.bearer !== undefined) headers.set('authorization', `Bearer ${call.bearer}`);

  if (method === 'GET' || method === 'DELETE') {
    for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
    return { url, init: { method, headers } };
  }
  if (call.body === 'json') {
    headers.set('content-type', 'application/json');
    return { url, init: { method, headers, body: JSON.stringify(params) } };
  }
  headers.set('content-type', 'application/x-www-form-urlencoded');
  return { url, init: { method, headers, body: new URLSearchParams(params).toString() } };
}

const SECRET_PARAMS = new Set([
  'code',
  'code_verifier',
  'client_secret',
  'refresh_token',
  'access_token',
  'token',
  'client_assertion',
]);

function failureContext(rt: ProviderRuntime, call: ProviderCall): FailureContext {
  const secrets = Object.entries(call.params ?? {})
    .filter(([key]) => SECRET_PARAMS.has(key))
    .map(([, value]) => value);
  if (call.clientAuth && call.clientAuth.method !== 'none') secrets.push(call.clientAuth.clientSecret);
  if (call.bearer) secrets.push(call.bearer);
  return {
    provider: call.provider,
    operation: call.operation,
    secrets,
    refusedCodes: call.refusedCodes,
    now: rt.now(),
  };
}

/** RFC 6749 Appendix B: application/x-www-form-urlencoded, as Basic credentials need. */
function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

/**
 * JSON.parse, undefined for anything that is not JSON. Integers too big for a double keep their
 * digits as a string (Instagram's user_id), through the reviver's source text.
 */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text, keepBigIntegers as Parameters<typeof JSON.parse>[1]);
  } catch {
    return undefined;
  }
}

function keepBigIntegers(_key: string, value: unknown, context?: { source?: string }): unknown {
  if (
    typeof value === 'number' &&
    Number.isInteger(value) &&
    !Number.isSafeInteger(value) &&
    context?.source
  ) {
    return /^-?\d+$/.test(context.source) ? context.source : value;
  }
  return value;
}

function seconds(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : undefined;
}
