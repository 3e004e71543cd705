import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { listOf, pageQuery } from '../http/list-schema.ts';
import { IntegrationFields, IntegrationInput, IntegrationView } from './integration-schema.ts';
import {
  createIntegration,
  deleteIntegration,
  getIntegration,
  type IntegrationDeps,
  listIntegrations,
  updateIntegration,
} from './integration-store.ts';

const KeyParams = z.object({ key: z.string().max(64) });

export const integrationRoutes: FastifyPluginAsyncZod<IntegrationDeps> = async (app, deps) => {
  const tags = ['integrations'];
  app.post(
    '/integrations',
    {
      schema: {
        tags,
        summary: 'Create an integration',
        body: IntegrationInput.meta({
          examples: [
            {
              key: 'google',
              provider: 'google',
              clientId: '1234.apps.googleusercontent.com',
              clientSecret: 'GOCSPX-…',
              scopes: ['openid', 'email', 'https://www.googleapis.com/auth/gmail.readonly'],
            },
            { key: 'stripe', provider: 'stripe', webhookSecrets: ['whsec_…'] },
          ],
        }),
        errors: ['conflict'],
        response: { 201: IntegrationView },
      },
    },
    async (request, reply) => reply.status(201).send(await createIntegration(deps, request.body, 'api')),
  );
  app.get(
    '/integrations',
    {
      schema: {
        tags,
        summary: 'List integrations, by key',
        querystring: z.object(pageQuery),
        errors: ['invalid_cursor'],
        response: { 200: listOf(IntegrationView) },
      },
    },
    async (request) => listIntegrations(deps, request.query),
  );
  app.get(
    '/integrations/:key',
    {
      schema: {
        tags,
        summary: 'Read an integration (secrets are never returned)',
        params: KeyParams,
        errors: ['not_found'],
        response: { 200: IntegrationView },
      },
    },
    async (request) => getIntegration(deps, request.params.key),
  );
  app.patch(
    '/integrations/:key',
    {
      schema: {
        tags,
        summary: 'Change an integration',
        params: KeyParams,
        errors: ['not_found'],
        body: IntegrationFields,
        response: { 200: IntegrationView },
      },
    },
    async (request) => updateIntegration(deps, request.params.key, request.body, 'api'),
  );
  app.delete(
    '/integrations/:key',
    {
      schema: {
        tags,
        summary: 'Delete an integration that has no live connections',
        params: KeyParams,
        response: { 204: z.null().describe('Deleted') },
        errors: ['not_found', 'conflict'],
      },
    },
    async (request, reply) => {
      await deleteIntegration(deps, request.params.key, 'api');
      return reply.status(204).send(null);
    },
  );
};
