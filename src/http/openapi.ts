import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { API_KEY_SCHEME } from './auth.ts';
import { documentRoute, ERROR_COMPONENT, ErrorBody, SANDBOX_CONTROL_TAG, SANDBOX_TAG } from './route-docs.ts';

/**
 * OpenAPI generated from the route schemas (and the rules of route-docs.ts), served at /openapi.json,
 * rendered at /docs. The tags are listed in reading order: the API first, the sandbox last.
 */
const TAGS = [
  { name: 'integrations', description: 'An app’s credentials at one provider, or a webhook source' },
  { name: 'connections', description: 'End users’ connected accounts, their tokens, connect sessions' },
  { name: 'proxy', description: 'Call a provider’s API as a connection' },
  { name: 'events', description: 'The inbound webhook inbox' },
  { name: 'payments', description: 'Payments recorded from Stripe and PayPal webhooks' },
  { name: 'signature-requests', description: 'DocuSign envelopes recorded from Connect webhooks' },
  { name: 'gmail', description: 'Gmail mailboxes watched through Pub/Sub' },
  {
    name: 'syncs',
    description: 'Provider data copied in by syncs (schedules, runs, failed records), read in change order',
  },
  {
    name: 'event-subscriptions',
    description: 'Events to the host app: its endpoints, signed deliveries, retries (docs/events.md)',
  },
  { name: 'audit', description: 'Every state change, newest first' },
  { name: 'connect', description: 'What an end user’s browser visits to connect an account (no API key)' },
  { name: 'webhooks', description: 'Where providers deliver webhooks (no API key: each is verified)' },
  { name: 'health', description: 'Liveness, readiness, metrics, this document' },
  {
    name: 'dashboard',
    description: 'The operator web pages (sign in with the API key or TETHER_ADMIN_PASSWORD)',
  },
  {
    name: SANDBOX_TAG,
    description: 'Offline provider simulators, mounted only when the sandbox is on; not part of the API',
  },
  {
    name: SANDBOX_CONTROL_TAG,
    description: 'The sandbox’s control API (faults, clock, grants, webhook senders); never on in production',
  },
];

export async function installOpenApi(app: FastifyInstance, publicUrl: string): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'tether',
        version: '0.1.0',
        description:
          'OAuth connections that stay fresh, inbound webhooks processed exactly once, provider data synced incrementally. ' +
          'Every /v1 route needs `Authorization: Bearer $TETHER_API_KEY`; every error is `{"error": {"code", "message"}}`.',
      },
      servers: [{ url: publicUrl }],
      tags: TAGS,
      components: {
        securitySchemes: {
          [API_KEY_SCHEME]: { type: 'http', scheme: 'bearer', description: 'TETHER_API_KEY' },
        },
        schemas: { [ERROR_COMPONENT]: z.toJSONSchema(ErrorBody, { io: 'output' }) as never },
      },
    },
    transform: documentRoute,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get(
    '/openapi.json',
    {
      schema: {
        tags: ['health'],
        summary: 'This OpenAPI document (rendered at /docs)',
        documentedResponses: { 200: { description: 'The OpenAPI 3.1 document, JSON' } },
      },
    },
    async () => app.swagger(),
  );
}
