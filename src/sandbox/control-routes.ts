import type { FastifyInstance, FastifyReply } from 'fastify';
import type { z } from 'zod';
import {
  advanceInput,
  clientInput,
  expireInput,
  faultInput,
  rateLimitInput,
  revokeInput,
  slackWebhookStateInput,
} from './control-schemas.ts';
import type { FaultRuleInput } from './faults.ts';
import type { Grant } from './oauth/grants.ts';
import type { SandboxProviderModule } from './providers/provider.ts';
import { isSandboxProvider, providerSettingsPatch } from './settings.ts';
import { releaseHung, type SandboxState } from './state.ts';

// The control API under /_control: how tests and operators steer the sandbox. Routes here carry
// no endpoint key, so faults, rate limits and call counts never touch them.

export function registerControlRoutes(
  app: FastifyInstance,
  state: SandboxState,
  providers: readonly SandboxProviderModule[],
) {
  const presets = new Map(
    providers.flatMap((p) =>
      Object.entries(p.faultPresets ?? {}).map(([name, preset]) => [`${p.name}.${name}`, preset]),
    ),
  );

  app.get('/accounts', async () => state.accounts);

  app.get('/clients', async () => state.clients.list());
  app.post('/clients', async (request, reply) => {
    const input = parse(reply, clientInput, request.body);
    if (!input) return reply;
    const client = state.clients.register({
      provider: input.provider,
      clientId: input.clientId,
      clientSecret: input.clientSecret,
      redirectUris: input.redirectUris ?? null,
      name: input.name ?? input.clientId,
    });
    return reply.code(201).send(client);
  });

  app.get('/providers/:provider/settings', async (request, reply) => {
    const { provider } = request.params as { provider: string };
    if (!isSandboxProvider(provider)) return notFound(reply, `No sandbox provider named ${provider}.`);
    return state.settings[provider];
  });
  app.patch('/providers/:provider/settings', async (request, reply) => {
    const { provider } = request.params as { provider: string };
    if (!isSandboxProvider(provider)) return notFound(reply, `No sandbox provider named ${provider}.`);
    const patch = parse(reply, providerSettingsPatch, request.body);
    if (!patch) return reply;
    Object.assign(state.settings[provider], patch);
    return state.settings[provider];
  });

  app.get('/faults', async () => state.faults.list());
  app.get('/fault-presets', async () => Object.fromEntries(presets));
  app.post('/faults', async (request, reply) => {
    const input = parse(reply, faultInput, request.body);
    if (!input) return reply;
    const preset = input.preset === undefined ? undefined : presets.get(input.preset);
    if (input.preset !== undefined && !preset)
      return notFound(reply, `No fault preset named ${input.preset}.`);
    const rule: FaultRuleInput = {
      endpoint: input.endpoint ?? preset!.endpoint,
      action: input.action ?? preset!.action,
      times: input.times,
      rate: input.rate,
    };
    return reply.code(201).send(state.faults.add(rule));
  });
  app.delete('/faults', async () => {
    state.faults.clear();
    releaseHung(state);
    return { cleared: true };
  });
  app.delete('/faults/:id', async (request, reply) => {
    const { id } = request.params as { id: string };
    return state.faults.remove(id) ? { removed: id } : notFound(reply, `No fault ${id}.`);
  });

  app.get('/rate-limits', async () => state.rateLimits.list());
  app.post('/rate-limits', async (request, reply) => {
    const input = parse(reply, rateLimitInput, request.body);
    if (!input) return reply;
    return reply.code(201).send(state.rateLimits.add(input));
  });
  app.delete('/rate-limits', async () => {
    state.rateLimits.clear();
    return { cleared: true };
  });
  app.delete('/rate-limits/:id', async (request, reply) => {
    const { id } = request.params as { id: string };
    return state.rateLimits.remove(id) ? { removed: id } : notFound(reply, `No rate limit ${id}.`);
  });

  app.get('/calls', async (request) => {
    const limit = Number((request.query as { limit?: string }).limit ?? 50);
    return { counts: state.calls.counts(), recent: state.calls.recent(Number.isFinite(limit) ? limit : 50) };
  });
  app.delete('/calls', async () => {
    state.calls.reset();
    return { cleared: true };
  });

  app.get('/clock', async () => ({
    now: new Date(state.clock.now()).toISOString(),
    offsetMs: state.clock.offsetMs(),
  }));
  app.post('/clock/advance', async (request, reply) => {
    const input = parse(reply, advanceInput, request.body);
    if (!input) return reply;
    const now = state.clock.advance(input.ms ?? (input.seconds ?? 0) * 1000);
    return { now: new Date(now).toISOString(), offsetMs: state.clock.offsetMs() };
  });

  app.get('/grants', async () =>
    state.grants.list().map((grant) => ({
      ...grant,
      accessTokens: state.grants.accessTokensOf(grant.id),
      refreshTokens: state.grants.refreshTokensOf(grant.id),
    })),
  );
  app.post('/grants/revoke', async (request, reply) => {
    const input = parse(reply, revokeInput, request.body);
    if (!input) return reply;
    const grants = findGrants(state, input);
    if (grants.length === 0) return notFound(reply, 'No grant matches.');
    const now = state.clock.now();
    for (const grant of grants) state.grants.revoke(grant.id, now);
    return { revoked: grants.map((grant) => grant.id) };
  });

  app.post('/access-tokens/expire', async (request, reply) => {
    const input = parse(reply, expireInput, request.body);
    if (!input) return reply;
    const token = state.grants.access(input.accessToken);
    if (!token) return notFound(reply, 'No such access token.');
    token.expiresAt = state.clock.now();
    return { expiresAt: new Date(token.expiresAt).toISOString() };
  });

  app.get('/slack/webhooks', async () => state.slackWebhooks.list());
  app.post('/slack/webhooks/:id', async (request, reply) => {
    const { id } = request.params as { id: string };
    const input = parse(reply, slackWebhookStateInput, request.body);
    if (!input) return reply;
    const hook = state.slackWebhooks.get(id);
    if (!hook) return notFound(reply, `No Slack webhook ${id}.`);
    hook.state = input.state;
    return hook;
  });

  app.post('/reset', async () => {
    state.reset();
    return { reset: true };
  });
}

function findGrants(state: SandboxState, input: z.infer<typeof revokeInput>): Grant[] {
  const byToken = (grantId: string | undefined) => {
    const grant = grantId ? state.grants.get(grantId) : undefined;
    return grant ? [grant] : [];
  };
  if (input.refreshToken) return byToken(state.grants.refresh(input.refreshToken)?.grantId);
  if (input.accessToken) return byToken(state.grants.access(input.accessToken)?.grantId);
  if (input.grantId) return byToken(input.grantId);
  return state.grants
    .list()
    .filter((g) => g.accountId === input.accountId && (!input.provider || g.provider === input.provider));
}

function parse<T>(reply: FastifyReply, schema: z.ZodType<T>, body: unknown): T | undefined {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const message = result.error.issues
    .map((issue) => (issue.path.length ? `"${issue.path.join('.')}" ${issue.message}` : issue.message))
    .join('; ');
  reply.code(400).send({ error: { code: 'validation_failed', message } });
  return undefined;
}

function notFound(reply: FastifyReply, message: string) {
  return reply.code(404).send({ error: { code: 'not_found', message } });
}
