import type { FastifyInstance } from 'fastify';
import { makeSecretMatcher } from '../crypto/constant-time.ts';
import { AppError } from '../errors.ts';
import type { AuthFailureLimiter } from './auth-failure-limiter.ts';

/** What happens to failed authentications: limited per address, and counted. */
export interface AuthFailureGuard {
  limiter: AuthFailureLimiter;
  onFailure?: (outcome: 'unauthorized' | 'rate_limited') => void;
}

/** The security scheme's name in the OpenAPI document. */
export const API_KEY_SCHEME = 'apiKey';

/**
 * Bearer API key on every route of the instance it is installed on (the /v1
 * scope). The comparison is constant-time (makeSecretMatcher: the key's digest
 * taken once, each request's candidate hashed), so neither the key's content
 * nor its length leaks through response timing. The right key is
 * checked first and always passes; only a missing or wrong one meets the
 * guard, which answers 429 once its address has failed too often.
 */
export function requireApiKey(app: FastifyInstance, apiKey: string, guard?: AuthFailureGuard): void {
  // What is enforced here is documented here: each guarded route shows the key and its 401 (and the 429).
  app.addHook('onRoute', (route) => {
    route.schema = {
      ...route.schema,
      security: [{ [API_KEY_SCHEME]: [] }],
      errors: [...(route.schema?.errors ?? []), 'unauthorized', ...(guard ? ['rate_limited' as const] : [])],
    };
  });
  const isApiKey = makeSecretMatcher(apiKey);
  // A callback hook, not an async one: it runs on every request and spares a promise each.
  app.addHook('onRequest', (request, _reply, done) => {
    const header = request.headers.authorization;
    const match = header ? /^Bearer\s+(.+)$/i.exec(header) : null;
    if (match && isApiKey(match[1]!.trim())) return done();
    done(refusal(request.ip, match !== null, guard));
  });
}

/** Why a request without the right key is refused: rate-limited, or unauthorized (and counted). */
function refusal(ip: string, sentBearer: boolean, guard: AuthFailureGuard | undefined): AppError {
  const retryAfterSeconds = guard?.limiter.retryAfterSeconds(ip) ?? 0;
  if (retryAfterSeconds > 0) {
    guard?.onFailure?.('rate_limited');
    return new AppError(
      'rate_limited',
      'Too many failed authentications from this address; wait and retry.',
      {
        retryAfterSeconds,
      },
    );
  }
  guard?.limiter.recordFailure(ip);
  guard?.onFailure?.('unauthorized');
  if (!sentBearer) {
    return new AppError('unauthorized', 'Send the API key as "Authorization: Bearer <TETHER_API_KEY>".');
  }
  return new AppError('unauthorized', 'The API key is not valid.');
}
