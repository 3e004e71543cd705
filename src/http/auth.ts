import type { FastifyInstance } from 'fastify';
import { safeEqual } from '../crypto/constant-time.ts';
import { AppError } from '../errors.ts';

/** The security scheme's name in the OpenAPI document. */
export const API_KEY_SCHEME = 'apiKey';

/**
 * Bearer API key on every route of the instance it is installed on (the /v1
 * scope). The comparison goes through safeEqual, so neither the key's
 * content nor its length leaks through response timing.
 */
export function requireApiKey(app: FastifyInstance, apiKey: string): void {
  // What is enforced here is documented here: each guarded route shows the key and its 401.
  app.addHook('onRoute', (route) => {
    route.schema = {
      ...route.schema,
      security: [{ [API_KEY_SCHEME]: [] }],
      errors: [...(route.schema?.errors ?? []), 'unauthorized'],
    };
  });
  app.addHook('onRequest', async (request) => {
    const header = request.headers.authorization;
    const match = header ? /^Bearer\s+(.+)$/i.exec(header) : null;
    if (!match) {
      throw new AppError('unauthorized', 'Send the API key as "Authorization: Bearer <TETHER_API_KEY>".');
    }
    if (!safeEqual(match[1]!.trim(), apiKey)) {
      throw new AppError('unauthorized', 'The API key is not valid.');
    }
  });
}
