import type { FastifyInstance } from 'fastify';
import { findNul } from '../db/postgres-text.ts';
import { AppError } from '../errors.ts';

/**
 * Refuses with 400 validation_failed a request whose path parameters, query or parsed body hold
 * U+0000 (`%00` in the URL or a form, `\u0000` in JSON): PostgreSQL cannot store the character,
 * so the request would otherwise end as a 500 at the first statement that met it. Raw bodies
 * (webhook ingest, the proxy) are bytes and pass: their verifiers and the provider judge them.
 */
export function refuseNulInRequests(app: FastifyInstance): void {
  // A callback hook: it runs on every request, webhook ingest included. The URL can carry the
  // character only percent-encoded (Node refuses a raw one), so most requests skip that walk.
  app.addHook('preValidation', (request, _reply, done) => {
    const where =
      (request.url.includes('%00')
        ? (findNul(request.params, 'params') ?? findNul(request.query, 'querystring'))
        : undefined) ?? findNul(request.body, 'body');
    if (where === undefined) return done();
    done(new AppError('validation_failed', `Invalid ${where}: must not contain U+0000 (NUL).`));
  });
}
