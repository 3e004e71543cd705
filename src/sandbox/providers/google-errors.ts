import type { ProviderReply } from '../http.ts';

// Google APIs' error envelope, as Gmail answers it.

export const WWW_AUTHENTICATE = 'Bearer realm="https://accounts.google.com/", error="invalid_token"';

export const UNAUTHENTICATED = {
  error: {
    code: 401,
    message:
      'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
    errors: [
      {
        message: 'Invalid Credentials',
        domain: 'global',
        reason: 'authError',
        location: 'Authorization',
        locationType: 'header',
      },
    ],
    status: 'UNAUTHENTICATED',
  },
};

export function unauthenticated(): ProviderReply {
  return { status: 401, headers: { 'www-authenticate': WWW_AUTHENTICATE }, body: UNAUTHENTICATED };
}

export function googleError(code: number, message: string, reason: string, status: string): ProviderReply {
  return {
    status: code,
    body: { error: { code, message, errors: [{ message, domain: 'global', reason }], status } },
  };
}

export const notFound = () => googleError(404, 'Requested entity was not found.', 'notFound', 'NOT_FOUND');
export const invalidArgument = (message: string) =>
  googleError(400, message, 'invalidArgument', 'INVALID_ARGUMENT');

/** Google's 429 when a quota is exhausted. */
export function googleRateLimited(hit: { retryAfterSec: number }): ProviderReply {
  return {
    status: 429,
    headers: { 'retry-after': String(hit.retryAfterSec) },
    body: {
      error: {
        code: 429,
        message: 'Resource has been exhausted (e.g. check quota).',
        errors: [
          {
            message: 'Resource has been exhausted (e.g. check quota).',
            domain: 'usageLimits',
            reason: 'rateLimitExceeded',
          },
        ],
        status: 'RESOURCE_EXHAUSTED',
      },
    },
  };
}
