import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { z } from 'zod';
import type { Sealer } from '../crypto/seal.ts';
import type { Db } from '../db/client.ts';
import type { IntegrationRow } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import { sendError } from '../http/error-handler.ts';
import { getIntegrationRow } from '../integrations/integration-store.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { InboxWriter } from './inbox-writer.ts';
import type { RejectionAudit } from './rejection-audit.ts';
import { verifierSettings } from './sources/verifier-settings.ts';
import { isWebhookSource, makeWebhookVerifierRegistry } from './verifiers/index.ts';
import {
  REJECT_REASONS,
  type RejectReason,
  type WebhookSource,
  type WebhookVerifier,
} from './verifiers/types.ts';

/**
 * POST /webhooks/:integrationKey — receive → verify on the raw bytes →
 * store in the inbox (committed) → 200. A duplicate is acknowledged with
 * `"duplicate": true` and not processed again. Rejections are counted by
 * reason (a metric each, folded into the audit log: see rejection-audit.ts)
 * and never logged with the payload.
 */
export interface ReceiveDeps {
  db: Db;
  sealer: Sealer;
  logger: Logger;
  metrics: Metrics;
  inbox: InboxWriter;
  /** Where rejections are counted into the audit log (one row per integration, reason and minute). */
  rejections: RejectionAudit;
  publicUrl: string;
  bodyLimitBytes: number;
  /** The clock signatures' timestamps and tokens are checked against (runtime.now()). */
  now: () => Date;
}

const Received = z.object({ received: z.literal(true), duplicate: z.boolean() });

/** Not answered 2xx, so the sender delivers again: a 503 with a hint when. */
const unavailable = (message: string) =>
  new AppError('service_unavailable', message, { retryAfterSeconds: 5 });

/** How long a verifier (and the integration row it came from) is reused before re-reading. */
const VERIFIER_TTL_MS = 1000;

export const receiveRoutes: FastifyPluginAsync<ReceiveDeps> = async (app, deps) => {
  const registry = makeWebhookVerifierRegistry();
  type Found = { at: number; updatedAt: number; source: WebhookSource; verifier: WebhookVerifier };
  const verifiers = new Map<string, Found>();
  // One read of a key at a time: when the cached entry lapses under load, the deliveries that
  // arrive meanwhile share that read instead of each querying the integration again.
  const reading = new Map<string, Promise<Found | null>>();

  function verifierFor(key: string): Found | Promise<Found | null> {
    const cached = verifiers.get(key);
    if (cached && Date.now() - cached.at < VERIFIER_TTL_MS) return cached;
    let read = reading.get(key);
    if (!read) {
      read = readVerifier(key, cached).finally(() => reading.delete(key));
      reading.set(key, read);
    }
    return read;
  }

  async function readVerifier(key: string, cached: Found | undefined): Promise<Found | null> {
    let row: IntegrationRow;
    try {
      row = await getIntegrationRow(deps.db, key);
    } catch (error) {
      // Not found is an answer (404); anything else (the database is away) is thrown: a 503.
      if (!(error instanceof AppError && error.code === 'not_found')) throw error;
      verifiers.delete(key);
      return null;
    }
    if (!isWebhookSource(row.provider)) return null;
    if (cached && cached.updatedAt === row.updatedAt.getTime()) {
      cached.at = Date.now();
      return cached;
    }
    const source = row.provider;
    const entry = {
      at: Date.now(),
      updatedAt: row.updatedAt.getTime(),
      source,
      verifier: registry.build(source, verifierSettings(deps.sealer, row, source)),
    };
    verifiers.set(key, entry);
    return entry;
  }

  // The raw bytes, whatever the content type: every signature scheme signs them.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    '*',
    { parseAs: 'buffer', bodyLimit: deps.bodyLimitBytes },
    (_request, body, done) => done(null, body),
  );

  app.post<{ Params: { integrationKey: string } }>(
    '/webhooks/:integrationKey',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Inbound webhooks (Stripe, PayPal, DocuSign Connect, Gmail Pub/Sub push)',
        // Documented, not serialised through a schema: this is the ingest hot path.
        documentedResponses: {
          200: { description: 'Stored (or already stored: a duplicate)', schema: Received },
        },
        errors: ['invalid_signature', 'bad_request', 'not_found', 'payload_too_large', 'service_unavailable'],
      },
      bodyLimit: deps.bodyLimitBytes,
    },
    async (request, reply) => {
      const key = request.params.integrationKey;
      let found: Found | null;
      try {
        found = await verifierFor(key);
      } catch (error) {
        request.log.error({ err: error, integration: key }, 'webhook integration lookup failed');
        return sendError(reply, unavailable('The webhook integration could not be read; deliver it again.'));
      }
      if (!found)
        return sendError(reply, new AppError('not_found', `No webhook integration with key "${key}".`));
      const rawBody = request.body instanceof Buffer ? request.body : Buffer.alloc(0);
      const result = await found.verifier.verify(
        { rawBody, headers: request.headers, url: `${deps.publicUrl}/webhooks/${key}` },
        deps.now(),
      );
      if (!result.ok) return reject(reply, key, found.source, result.reason, result.message);
      let stored: Awaited<ReturnType<InboxWriter['write']>>;
      try {
        stored = await deps.inbox.write({
          integrationKey: key,
          source: found.source,
          eventId: result.eventId,
          type: result.eventType,
          payload: result.payload,
        });
      } catch (error) {
        // Not stored, so not acknowledged: a 503 makes the sender deliver it again.
        request.log.error({ err: error, integration: key }, 'webhook inbox write failed');
        return sendError(reply, unavailable('The event could not be stored; deliver it again.'));
      }
      deps.metrics.webhooks.inc({
        source: found.source,
        outcome: stored.duplicate ? 'duplicate' : 'received',
        reason: '',
      });
      return reply.status(200).send({ received: true, duplicate: stored.duplicate });
    },
  );

  async function reject(
    reply: FastifyReply,
    key: string,
    source: WebhookSource,
    reason: RejectReason,
    message: string,
  ) {
    deps.metrics.webhooks.inc({ source, outcome: 'rejected', reason });
    await deps.rejections.record({ integration: key, source, reason });
    const { status, answer } = REJECT_REASONS[reason];
    return sendError(reply, new AppError(answer, message, { status }));
  }
};
