import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { SandboxState } from '../state.ts';
import { DATASET_KINDS, type DatasetKind } from './kinds.ts';
import { applyDatasetOperation, type DatasetOperation } from './operations.ts';

// Control routes for generated datasets (under /_control):
//   PUT  /datasets/:provider/:model          {account, count, seed, malformedEvery?}
//   POST /datasets/:provider/:model/changes  {account, added, updated, deleted, seed}

const count = z.number().int().min(0).max(10_000_000);
const sizing = z
  .object({
    account: z.string().min(1),
    count,
    seed: z.string().min(1).max(200),
    malformedEvery: z.number().int().min(1).optional(),
  })
  .strict();
const changes = z
  .object({
    account: z.string().min(1),
    added: count.default(0),
    updated: count.default(0),
    deleted: count.default(0),
    seed: z.string().min(1).max(200),
  })
  .strict();

export function registerDatasetRoutes(app: FastifyInstance, state: SandboxState): void {
  const kinds = new Map(DATASET_KINDS.map((k) => [`${k.provider}/${k.model}`, k]));
  const kindOf = (params: unknown): DatasetKind | undefined => {
    const { provider, model } = params as { provider: string; model: string };
    return kinds.get(`${provider}/${model}`);
  };
  const apply = (kind: DatasetKind, operation: DatasetOperation) => {
    const done = applyDatasetOperation(state, kind, operation);
    if (done) state.datasets.record(operation);
    return done;
  };
  const issues = (error: z.ZodError) =>
    error.issues.map((i) => (i.path.length ? `"${i.path.join('.')}" ${i.message}` : i.message)).join('; ');

  app.put('/datasets/:provider/:model', async (request, reply) => {
    const kind = kindOf(request.params);
    if (!kind)
      return notFound(
        reply,
        `No dataset ${request.url.split('?')[0]}; known: ${[...kinds.keys()].join(', ')}.`,
      );
    const input = sizing.safeParse(request.body ?? {});
    if (!input.success)
      return reply.code(400).send({ error: { code: 'validation_failed', message: issues(input.error) } });
    const done = apply(kind, {
      op: 'size',
      provider: kind.provider,
      model: kind.model,
      at: state.clock.now(),
      input: input.data,
    });
    return done ?? notFound(reply, `No ${kind.provider} account ${input.data.account}.`);
  });

  app.post('/datasets/:provider/:model/changes', async (request, reply) => {
    const kind = kindOf(request.params);
    if (!kind) return notFound(reply, `No dataset ${request.url.split('?')[0]}.`);
    const input = changes.safeParse(request.body ?? {});
    if (!input.success)
      return reply.code(400).send({ error: { code: 'validation_failed', message: issues(input.error) } });
    const done = apply(kind, {
      op: 'change',
      provider: kind.provider,
      model: kind.model,
      at: state.clock.now(),
      input: input.data,
    });
    return done ?? notFound(reply, `No ${kind.model} dataset for ${input.data.account}: size it first.`);
  });
}

function notFound(reply: import('fastify').FastifyReply, message: string) {
  return reply.code(404).send({ error: { code: 'not_found', message } });
}
