import { eq } from 'drizzle-orm';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Sealer } from '../crypto/seal.ts';
import type { Db } from '../db/client.ts';
import { connections } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { ProviderRuntime } from '../providers/provider.ts';
import type { ConnectionStore } from './connection-store.ts';
import { openCredentials } from './credentials.ts';
import { grantLostError } from './grant-lost.ts';

/**
 * POST /v1/connections/:id/slack/messages — posts through the connection's
 * incoming webhook URL (sealed at rest like a token). Slack's answers:
 * 200 ok; 400 our payload is wrong (not retried); 403/404/410 the webhook is
 * gone (reauthorization_required); 429 and 5xx passing (retried with
 * backoff, honouring Retry-After, a few times within the request).
 */
const MAX_ATTEMPTS = 3;
const MAX_WAIT_MS = 5_000;

export interface SlackDeps {
  db: Db;
  sealer: Sealer;
  runtime: ProviderRuntime;
  logger: Logger;
  connections: ConnectionStore;
  /** Waits between attempts; tests shorten it. */
  sleep?: (ms: number) => Promise<void>;
}

const SlackMessage = z
  .object({
    text: z.string().max(40_000).optional(),
    blocks: z.array(z.record(z.string(), z.unknown())).max(50).optional(),
    attachments: z.array(z.record(z.string(), z.unknown())).max(100).optional(),
  })
  .refine(
    (m) => m.text || m.blocks?.length || m.attachments?.length,
    'a message needs text, blocks or attachments',
  );

export const slackMessageRoutes: FastifyPluginAsyncZod<SlackDeps> = async (app, deps) => {
  const sleep = deps.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms)));
  app.post(
    '/connections/:id/slack/messages',
    {
      schema: {
        tags: ['connections'],
        summary: 'Post a message through a Slack connection’s incoming webhook',
        params: z.object({ id: z.string().max(100) }),
        body: SlackMessage,
        response: { 200: z.object({ ok: z.literal(true), attempts: z.number() }) },
        errors: ['not_found', 'not_connected', 'reauthorization_required', 'rate_limited', 'bad_gateway'],
      },
    },
    async (request) => {
      const { row, provider } = await deps.connections.load(request.params.id);
      if (row.status === 'disconnected')
        throw new AppError('not_connected', 'This Slack connection was disconnected.');
      if (row.status === 'reauthorization_required') {
        throw new AppError(
          'reauthorization_required',
          `Slack no longer accepts this connection's webhook (${row.lastError?.code ?? 'revoked'}); reconnect it.`,
        );
      }
      const url = openCredentials(deps.sealer, row)?.secretExtras?.incomingWebhookUrl;
      if (!url)
        throw new AppError(
          'validation_failed',
          'This connection has no Slack incoming webhook (connect it with the incoming-webhook scope).',
        );
      for (let attempt = 1; ; attempt++) {
        let status: number;
        let text = '';
        let retryAfter: number | undefined;
        try {
          const res = await deps.runtime.fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(request.body),
          });
          status = res.status;
          text = (await res.text()).slice(0, 200);
          retryAfter = Number(res.headers.get('retry-after')) || undefined;
        } catch {
          status = 0; // network error or timeout: passing
        }
        if (status >= 200 && status < 300) return { ok: true as const, attempts: attempt };
        if (status === 400)
          throw new AppError(
            'validation_failed',
            `Slack refused the message (${text || 'invalid_payload'}).`,
          );
        if (status === 403 || status === 404 || status === 410) {
          const reason = text || `http_${status}`;
          // Only the credentials this call used: a reconnect meanwhile brought a new webhook.
          throw (
            (await deps.connections.markGrantLost(
              {
                connectionId: row.id,
                provider: provider.name,
                displayName: 'Slack',
                reason,
                message: `The incoming webhook answered ${status} ${text}`.trim(),
                now: deps.runtime.now(),
              },
              eq(connections.credentialsVersion, row.credentialsVersion),
            )) ?? grantLostError('Slack', reason)
          );
        }
        if (attempt >= MAX_ATTEMPTS) {
          const code = status === 429 ? 'rate_limited' : 'bad_gateway';
          throw new AppError(
            code,
            status === 429
              ? 'Slack is rate limiting this webhook.'
              : `Slack did not accept the message after ${attempt} attempts.`,
            {
              retryAfterSeconds: retryAfter ?? (status === 429 ? 30 : undefined),
            },
          );
        }
        const backoff = retryAfter !== undefined ? retryAfter * 1000 : 250 * 2 ** (attempt - 1);
        deps.logger.info({ connectionId: row.id, status, attempt }, 'slack webhook attempt failed; retrying');
        await sleep(Math.min(backoff, MAX_WAIT_MS));
      }
    },
  );
};
