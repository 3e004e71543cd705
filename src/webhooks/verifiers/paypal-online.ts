import { type Rejection, reject } from './types.ts';

// PayPal's online check: POST {apiBase}/v1/notifications/verify-webhook-signature with an
// application token from {apiBase}/v1/oauth2/token (client credentials). PayPal answers 200
// even when the signature is wrong: only `verification_status` says SUCCESS or FAILURE.
// Token: absent → pending (one request, shared by concurrent callers) → held until 60 s before
// its expires_in → absent. A 401 from the verify call drops the token and retries once.

export interface PaypalOnlineOptions {
  /** https://api-m.paypal.com, https://api-m.sandbox.paypal.com, or the sandbox's …/sandbox/paypal. */
  apiBaseUrl: string;
  clientId: string;
  clientSecret: string;
  /** Per HTTP call (default 10000 ms). */
  timeoutMs?: number;
}

export interface VerifySignatureRequest {
  auth_algo: string;
  cert_url: string;
  transmission_id: string;
  transmission_sig: string;
  transmission_time: string;
  webhook_id: string;
  webhook_event: unknown;
}

export type PaypalOnlineCheck = (
  request: VerifySignatureRequest,
) => Promise<'SUCCESS' | 'FAILURE' | Rejection>;

export function makePaypalOnlineCheck(options: PaypalOnlineOptions): PaypalOnlineCheck {
  const base = options.apiBaseUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 10_000;
  let token: { value: string; expiresAt: number } | undefined;
  let pending: Promise<string | Rejection> | undefined;

  const fetchToken = async (): Promise<string | Rejection> => {
    const basic = Buffer.from(`${options.clientId}:${options.clientSecret}`).toString('base64');
    const answer = await call(`${base}/v1/oauth2/token`, timeoutMs, {
      authorization: `Basic ${basic}`,
      'content-type': 'application/x-www-form-urlencoded',
      body: 'grant_type=client_credentials',
    });
    if ('reason' in answer) return answer;
    if (answer.status !== 200) {
      return reject('verification_unavailable', `PayPal's token endpoint answered HTTP ${answer.status}.`);
    }
    const { access_token: value, expires_in: expiresIn } = answer.body as Record<string, unknown>;
    if (typeof value !== 'string' || value === '') {
      return reject('verification_unavailable', "PayPal's token endpoint answered no access_token.");
    }
    const lifetime = typeof expiresIn === 'number' ? expiresIn : 300;
    token = { value, expiresAt: Date.now() + Math.max(0, lifetime - 60) * 1000 };
    return value;
  };

  const getToken = (): Promise<string | Rejection> => {
    if (token && token.expiresAt > Date.now()) return Promise.resolve(token.value);
    pending ??= fetchToken().finally(() => {
      pending = undefined;
    });
    return pending;
  };

  return async (request) => {
    for (let attempt = 1; ; attempt++) {
      const accessToken = await getToken();
      if (typeof accessToken !== 'string') return accessToken;
      const answer = await call(`${base}/v1/notifications/verify-webhook-signature`, timeoutMs, {
        authorization: `Bearer ${accessToken}`,
        'content-type': 'application/json',
        body: JSON.stringify(request),
      });
      if ('reason' in answer) return answer;
      if (answer.status === 401 && attempt === 1) {
        if (token?.value === accessToken) token = undefined;
        continue;
      }
      if (answer.status !== 200) {
        return reject(
          'verification_unavailable',
          `PayPal's verification API answered HTTP ${answer.status}.`,
        );
      }
      const status = (answer.body as Record<string, unknown>).verification_status;
      if (status === 'SUCCESS' || status === 'FAILURE') return status;
      return reject('verification_unavailable', "PayPal's verification API answered no verification_status.");
    }
  };
}

async function call(
  url: string,
  timeoutMs: number,
  request: { authorization: string; 'content-type': string; body: string },
): Promise<{ status: number; body: unknown } | Rejection> {
  const { body, ...headers } = request;
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { ...headers, accept: 'application/json' },
      body,
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    let parsed: unknown = {};
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: the status decides
    }
    return { status: response.status, body: parsed !== null && typeof parsed === 'object' ? parsed : {} };
  } catch {
    return reject('verification_unavailable', 'PayPal could not be reached.');
  }
}
