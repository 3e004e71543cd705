import { eq, type SQL } from 'drizzle-orm';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Sealer } from '../crypto/seal.ts';
import type { Db } from '../db/client.ts';
import { type Keyset, tablePage } from '../db/keyset.ts';
import { connections } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import { listOf, pageQuery } from '../http/list-schema.ts';
import type { Logger } from '../logger.ts';
import type { ProviderRuntime } from '../providers/provider.ts';
import { createConnectSession } from './connect-flow.ts';
import { ConnectSessionView, getConnectSessionView } from './connect-session-view.ts';
import type { ConnectionStore } from './connection-store.ts';
import { ConnectionView, toConnectionView } from './connection-view.ts';
import type { RedirectPolicy } from './redirect-url.ts';
import type { TokenService } from './token-service.ts';

export interface ConnectionRouteDeps {
  db: Db;
  sealer: Sealer;
  runtime: ProviderRuntime;
  logger: Logger;
  publicUrl: string;
  tokens: TokenService;
  connections: ConnectionStore;
  redirectPolicy: RedirectPolicy;
}

const IdParams = z.object({ id: z.string().max(100) });
const AccessToken = z.object({ accessToken: z.string(), expiresAt: z.string().nullable() });
// Connection ids sort by creation time (src/ids.ts), so the id alone orders the list.
const connectionsNewestFirst: Keyset = {
  list: 'connections',
  direction: 'desc',
  keys: [{ column: connections.id, kind: 'text' }],
};

export const connectionRoutes: FastifyPluginAsyncZod<ConnectionRouteDeps> = async (app, deps) => {
  const tags = ['connections'];

  app.post(
    '/connect-sessions',
    {
      schema: {
        tags,
        summary: 'Start connecting an end user’s account: returns the URL the person opens',
        body: z
          .object({
            integration: z.string().min(1).max(64),
            endUserId: z.string().min(1).max(200),
            redirectUrl: z.url({ protocol: /^https?$/ }).optional(),
          })
          .meta({
            examples: [
              {
                integration: 'google',
                endUserId: 'user-42',
                redirectUrl: 'https://app.example.com/connected',
              },
            ],
          }),
        response: {
          201: z.object({ id: z.string(), url: z.string(), expiresAt: z.string() }).meta({
            examples: [
              {
                id: 'cs_0mx6…',
                url: 'https://tether.example.com/connect/ct_…',
                expiresAt: '2026-12-02T16:00:00.000Z',
              },
            ],
          }),
        },
        errors: ['not_found'],
      },
    },
    async (request, reply) => reply.status(201).send(await createConnectSession(deps, request.body)),
  );

  app.get(
    '/connect-sessions/:id',
    {
      schema: {
        tags,
        summary:
          'A connect session’s outcome: pending, connected (with the connection id) or failed (with the code)',
        params: IdParams,
        response: { 200: ConnectSessionView },
        errors: ['not_found'],
      },
    },
    async (request) => getConnectSessionView(deps.db, request.params.id, deps.runtime.now()),
  );

  app.get(
    '/connections',
    {
      schema: {
        tags,
        summary: 'List connections, newest first',
        querystring: z.object({
          endUserId: z.string().max(200).optional(),
          integration: z.string().max(64).optional(),
          status: ConnectionView.shape.status.optional(),
          ...pageQuery,
        }),
        response: { 200: listOf(ConnectionView) },
        errors: ['invalid_cursor'],
      },
    },
    async (request) => {
      const q = request.query;
      const where: SQL[] = [];
      if (q.endUserId) where.push(eq(connections.endUserId, q.endUserId));
      if (q.integration) where.push(eq(connections.integrationKey, q.integration));
      if (q.status) where.push(eq(connections.status, q.status));
      const { rows, nextCursor } = await tablePage(deps.db, connections, connectionsNewestFirst, q, where);
      return { items: rows.map((row) => toConnectionView(row, deps.sealer)), nextCursor };
    },
  );

  app.get(
    '/connections/:id',
    {
      schema: {
        tags,
        summary: 'Read a connection (never its credentials)',
        params: IdParams,
        response: { 200: ConnectionView },
        errors: ['not_found'],
      },
    },
    async (request) => toConnectionView((await deps.connections.load(request.params.id)).row, deps.sealer),
  );

  app.get(
    '/connections/:id/access-token',
    {
      schema: {
        tags,
        summary: 'A usable access token, refreshed first when it is about to expire',
        params: IdParams,
        response: { 200: AccessToken },
        errors: [
          'not_found',
          'not_connected',
          'reauthorization_required',
          'refresh_failed_transient',
          'integration_misconfigured',
        ],
      },
    },
    async (request, reply) => {
      const token = await deps.tokens.getAccessToken(request.params.id);
      reply.header('cache-control', 'no-store');
      return { accessToken: token.accessToken, expiresAt: token.expiresAt?.toISOString() ?? null };
    },
  );

  app.post(
    '/connections/:id/refresh',
    {
      schema: {
        tags,
        summary: 'Refresh the access token now',
        description:
          '200 with the new expiry only when a refresh happened. Otherwise 409 refresh_not_supported (no refresh token held), 409 refresh_too_early (Instagram refuses a token under 24 hours old; Retry-After), 503 refresh_failed_transient (a backoff runs or the refresh just failed; Retry-After), 409 reauthorization_required.',
        params: IdParams,
        response: { 200: ConnectionView },
        errors: [
          'not_found',
          'not_connected',
          'reauthorization_required',
          'refresh_not_supported',
          'refresh_too_early',
          'refresh_failed_transient',
          'integration_misconfigured',
        ],
      },
    },
    async (request) => {
      await deps.tokens.refreshNow(request.params.id);
      return toConnectionView((await deps.connections.load(request.params.id)).row, deps.sealer);
    },
  );

  app.delete(
    '/connections/:id',
    {
      schema: {
        tags,
        summary: 'Revoke at the provider where possible, wipe the credentials, mark disconnected',
        params: IdParams,
        response: { 200: ConnectionView.extend({ revokedAtProvider: z.boolean() }) },
        errors: ['not_found', 'not_connected'],
      },
    },
    async (request) => {
      const { row } = await deps.connections.load(request.params.id);
      if (row.status === 'disconnected')
        throw new AppError('not_connected', 'This connection is already disconnected.');
      const { revoked } = await deps.connections.disconnect(row, 'api');
      return {
        ...toConnectionView((await deps.connections.load(row.id)).row, deps.sealer),
        revokedAtProvider: revoked,
      };
    },
  );
};
