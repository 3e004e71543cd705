import { type FailureKind, ProviderError } from './provider.ts';

/**
 * Turns a provider's failed answer into a ProviderError whose kind tells the token lifecycle what
 * to do. The order of the rules:
 *
 * 1. 429 → transient, with Retry-After (seconds or an HTTP date) as retryAfterSeconds.
 * 2. 5xx (Notion's 529 included) → transient.
 * 3. The provider's error code, read from whichever shape it answers in (RFC 6749
 *    `{error}`, Slack's HTTP 200 `{ok: false, error}`, Graph `{error: {code}}`, TikTok's API
 *    `{error: {code}}`, Instagram's flat `{error_type, error_message}`, Notion's API
 *    `{object: 'error', code}`), looked up in the table below; the call's own `refusedCodes`
 *    win (Instagram's code 100 on an early refresh → refused).
 * 4. A body that is not JSON below 500, or a 2xx without what it must carry → configuration,
 *    code `invalid_response`: something other than the provider answered (a wrong URL, a proxy's
 *    HTML page). Never permanent, because nothing says the grant is gone.
 * 5. Any other 4xx → configuration: an answer we cannot read must not disconnect anyone.
 *
 * Messages name the provider, the operation, the code, the status and the provider's own
 * description, with every secret of the request cut out of it.
 */

const KINDS: Record<string, FailureKind> = {
  // The grant is gone: reconnect.
  invalid_grant: 'permanent',
  invalid_rapt: 'permanent',
  admin_policy_enforced: 'permanent',
  // Google deletes every grant of a deleted client; reconnecting needs a new client as well.
  deleted_client: 'permanent',
  '190': 'permanent',
  invalid_refresh_token: 'permanent',
  invalid_code: 'permanent',
  code_already_used: 'permanent',
  token_revoked: 'permanent',
  token_expired: 'permanent',
  invalid_auth: 'permanent',
  account_inactive: 'permanent',
  invalid_token: 'permanent',
  access_token_invalid: 'permanent',
  unauthorized: 'permanent',
  // The integration is wrong: every connection of it is affected.
  invalid_client: 'configuration',
  unauthorized_client: 'configuration',
  bad_client_secret: 'configuration',
  invalid_client_id: 'configuration',
  '101': 'configuration',
  bad_redirect_uri: 'configuration',
  redirect_uri_mismatch: 'configuration',
  invalid_scope: 'configuration',
  invalid_request: 'configuration',
  unsupported_grant_type: 'configuration',
  invalid_grant_type: 'configuration',
  invalid_arguments: 'configuration',
  // Try again later.
  ratelimited: 'transient',
  rate_limited: 'transient',
  rate_limit_exceeded: 'transient',
  temporarily_unavailable: 'transient',
  server_error: 'transient',
  service_overload: 'transient',
  '4': 'transient',
  '17': 'transient',
  '32': 'transient',
  '613': 'transient',
};

export interface FailureContext {
  /** For messages: 'Xero'. */
  provider: string;
  /** For messages: 'refresh', 'code exchange'. */
  operation: string;
  /** Values that must never appear in a message (tokens, codes, secrets sent in this call). */
  secrets: string[];
  /** Provider codes that mean "refused, the grant lives" for this call. */
  refusedCodes?: string[];
  now: Date;
}

export interface ProviderAnswer {
  status: number;
  headers: Headers;
  /** The parsed JSON body, or undefined when it was not JSON. */
  json: unknown;
}

export interface ReadError {
  code?: string;
  subtype?: string;
  description?: string;
  /** Graph's `is_transient`. */
  transient?: boolean;
}

/** The provider's own error code and description, whatever shape they came in. */
export function readError(json: unknown): ReadError {
  if (!isRecord(json)) return {};
  const { error } = json;
  if (typeof error === 'string') {
    return {
      code: error,
      subtype: stringOf(json.error_subtype),
      description: stringOf(json.error_description) ?? stringOf(json.message),
    };
  }
  if (isRecord(error) && (typeof error.code === 'string' || typeof error.code === 'number')) {
    if (error.code === 'ok') return {};
    return {
      code: String(error.code),
      subtype: error.error_subcode === undefined ? undefined : String(error.error_subcode),
      description: stringOf(error.message),
      transient: error.is_transient === true,
    };
  }
  if (typeof json.error_type === 'string') {
    return { code: json.error_type, description: stringOf(json.error_message) };
  }
  if (json.object === 'error' && typeof json.code === 'string') {
    return { code: json.code, description: stringOf(json.message) };
  }
  return {};
}

export function classifyAnswer(answer: ProviderAnswer, context: FailureContext): ProviderError {
  const { status } = answer;
  const error = readError(answer.json);
  const details = { status, providerCode: error.subtype === 'invalid_rapt' ? 'invalid_rapt' : error.code };
  const message = (code: string | undefined) =>
    describe(context, `${code ?? 'error'} (HTTP ${status})`, error.description);

  if (status === 429) {
    const retryAfterSeconds = readRetryAfter(answer.headers.get('retry-after'), context.now);
    return new ProviderError('transient', context.provider, message(error.code ?? 'rate_limited'), {
      ...details,
      retryAfterSeconds,
    });
  }
  if (status >= 500) return new ProviderError('transient', context.provider, message(error.code), details);
  if (answer.json === undefined) {
    return new ProviderError(
      'configuration',
      context.provider,
      describe(context, `invalid_response (HTTP ${status}): the answer is not JSON`),
      { status, providerCode: 'invalid_response' },
    );
  }
  if (error.code !== undefined) {
    const kind = kindOf(error, context);
    if (kind) return new ProviderError(kind, context.provider, message(error.code), details);
  }
  return new ProviderError('configuration', context.provider, message(error.code), details);
}

function kindOf(error: ReadError, context: FailureContext): FailureKind | undefined {
  const code = error.code!;
  if (context.refusedCodes?.includes(code)) return 'refused';
  if (error.transient) return 'transient';
  // Instagram's api.instagram.com names every OAuth failure OAuthException; only the words differ.
  if (code === 'OAuthException') {
    return /platform app|client_id|client secret|redirect_uri/i.test(error.description ?? '')
      ? 'configuration'
      : 'permanent';
  }
  return KINDS[code];
}

/** A 2xx that lacks what it must carry: treated like an answer from the wrong server. */
export function invalidResponse(context: FailureContext, status: number, what: string): ProviderError {
  return new ProviderError(
    'configuration',
    context.provider,
    describe(context, `invalid_response: ${what}`),
    {
      status,
      providerCode: 'invalid_response',
    },
  );
}

/** fetch itself failed: a timeout, a reset connection, a refused one. Always transient. */
export function networkFailure(cause: unknown, context: FailureContext, timeoutMs?: number): ProviderError {
  const name = cause instanceof Error ? cause.name : '';
  if (name === 'TimeoutError' || name === 'AbortError') {
    const after = timeoutMs === undefined ? '' : ` after ${timeoutMs} ms`;
    return new ProviderError('transient', context.provider, describe(context, `timed out${after}`), {
      providerCode: 'timeout',
      cause,
    });
  }
  const code = errorCode(cause);
  return new ProviderError(
    'transient',
    context.provider,
    describe(context, `network error${code ? ` (${code})` : ''}`),
    { providerCode: 'network_error', cause },
  );
}

function describe(context: FailureContext, what: string, description?: string): string {
  const said = description ? `: ${scrub(description, context.secrets)}` : '';
  return `${context.provider} ${context.operation} failed: ${what}${said}`;
}

/** The provider's words, without any secret we sent, on one line, at most 200 characters. */
export function scrub(text: string, secrets: string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 4) out = out.replaceAll(secret, '[redacted]');
  out = out.replace(/\s+/g, ' ').trim();
  return out.length > 200 ? `${out.slice(0, 199)}…` : out;
}

export function readRetryAfter(value: string | null, now: Date): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - now.getTime()) / 1000));
}

function errorCode(cause: unknown): string | undefined {
  for (let e = cause, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z_]+$/.test(code)) return code;
  }
  return undefined;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}
