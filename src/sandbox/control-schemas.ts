import { z } from 'zod';
import { SLACK_WEBHOOK_STATES } from './providers/slack-webhook-store.ts';
import { SANDBOX_PROVIDERS } from './settings.ts';

// Bodies the control API accepts. The typed control client sends exactly these.

/** An endpoint key ('xero.token'), or a prefix ending in '*' ('xero.*', '*'). */
const endpointPattern = z
  .string()
  .regex(/^(?=.)[A-Za-z0-9_.#-]*\*?$/, 'must be an endpoint key or a prefix ending in *');

const faultAction = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('respond'),
      status: z.number().int().min(100).max(599),
      body: z.unknown().optional(),
      headers: z.record(z.string(), z.string()).optional(),
    })
    .strict(),
  z.object({ kind: z.literal('latency'), ms: z.number().int().min(0).max(600_000) }).strict(),
  z.object({ kind: z.literal('hang') }).strict(),
  z.object({ kind: z.literal('drop') }).strict(),
]);

export const faultInput = z
  .object({
    endpoint: endpointPattern.optional(),
    action: faultAction.optional(),
    /** A provider's named fault, such as 'google.invalid_rapt'. */
    preset: z.string().optional(),
    times: z.number().int().min(1).optional(),
    rate: z.number().min(0).max(1).optional(),
  })
  .strict()
  .refine((v) => (v.preset === undefined) !== (v.action === undefined), 'give either "action" or "preset"')
  .refine((v) => v.preset !== undefined || v.endpoint !== undefined, '"endpoint" is required with "action"');

export const rateLimitInput = z
  .object({
    endpoint: endpointPattern,
    limit: z.number().int().min(0),
    windowSec: z.number().int().min(1),
    problem: z.string().optional(),
  })
  .strict();

export const clientInput = z
  .object({
    provider: z.enum(SANDBOX_PROVIDERS),
    clientId: z.string().min(1),
    clientSecret: z.string().min(1),
    redirectUris: z.array(z.url()).nullable().optional(),
    name: z.string().optional(),
  })
  .strict();

export const advanceInput = z
  .object({ ms: z.number().min(0).optional(), seconds: z.number().min(0).optional() })
  .strict()
  .refine((v) => (v.ms === undefined) !== (v.seconds === undefined), 'give either "ms" or "seconds"');

export const revokeInput = z
  .object({
    refreshToken: z.string().optional(),
    accessToken: z.string().optional(),
    grantId: z.string().optional(),
    /** Every grant of this account (optionally of one provider). */
    accountId: z.string().optional(),
    provider: z.enum(SANDBOX_PROVIDERS).optional(),
  })
  .strict()
  .refine(
    (v) =>
      [v.refreshToken, v.accessToken, v.grantId, v.accountId].filter((x) => x !== undefined).length === 1,
    'give exactly one of "refreshToken", "accessToken", "grantId", "accountId"',
  );

export const expireInput = z.object({ accessToken: z.string().min(1) }).strict();

export const slackWebhookStateInput = z.object({ state: z.enum(SLACK_WEBHOOK_STATES) }).strict();
