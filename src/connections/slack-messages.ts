import { eq } from 'drizzle-orm';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Sealer } from '../crypto/seal.ts';
import type { Db } from '../db/client.ts';
import { type ConnectionRow, connections } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { type ProviderDefinition, ProviderError, type ProviderRuntime } from '../providers/provider.ts';
import { postToIncomingWebhook, WEBHOOK_ATTEMPTS, type WebhookPostOptions } from '../providers/slack.ts';
import type { ConnectionStore } from './connection-store.ts';
import { openCredentials } from './credentials.ts';
import { grantLostError } from './grant-lost.ts';

/**
 * POST /v1/connections/:id/slack/messages — posts through the connection's incoming webhook URL
 * (sealed at rest like a token). The post, its retries and what Slack's answers mean are
 * providers/slack.ts (postToIncomingWebhook); here they become the API's answers: a refused
 * payload 400 validation_failed; a webhook gone 409 reauthorization_required (the connection
 * marked so); still passing after the retries 429 rate_limited or 502 bad_gateway.
 */

export interface SlackDeps {
  db: Db;
  sealer: Sealer;
  runtime: ProviderRuntime;
  logger: Logger;
  connections: ConnectionStore;
  /** Waits between attempts; tests shorten it. */
  sleep?: WebhookPostOptions['sleep'];
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
      try {
        const { attempts } = await postToIncomingWebhook(deps.runtime, url, request.body, {
          sleep: deps.sleep,
          onRetry: (failure, attempt) =>
            deps.logger.info(
              { connectionId: row.id, status: failure.status, attempt },
              'slack webhook attempt failed; retrying',
            ),
        });
        return { ok: true as const, attempts };
      } catch (error) {
        if (!(error instanceof ProviderError)) throw error;
        throw await answerFor(deps, { row, provider }, error);
      }
    },
  );
};

/** The API's answer to a webhook post that failed, marking the connection when the webhook is gone. */
async function answerFor(
  deps: SlackDeps,
  { row, provider }: { row: ConnectionRow; provider: ProviderDefinition },
  failure: ProviderError,
): Promise<AppError> {
  const reason = failure.providerCode ?? failure.kind;
  if (failure.kind === 'refused')
    return new AppError('validation_failed', `Slack refused the message (${reason}).`);
  if (failure.kind === 'permanent') {
    // Only the credentials this call used: a reconnect meanwhile brought a new webhook.
    const marked = await deps.connections.markGrantLost(
      {
        connectionId: row.id,
        provider: provider.name,
        displayName: provider.displayName,
        reason,
        message: `The incoming webhook answered ${failure.status} ${reason}`,
        now: deps.runtime.now(),
      },
      eq(connections.credentialsVersion, row.credentialsVersion),
    );
    return marked ?? grantLostError(provider.displayName, reason);
  }
  if (failure.status === 429) {
    return new AppError('rate_limited', 'Slack is rate limiting this webhook.', {
      retryAfterSeconds: failure.retryAfterSeconds || 30,
    });
  }
  return new AppError('bad_gateway', `Slack did not accept the message after ${WEBHOOK_ATTEMPTS} attempts.`);
}
