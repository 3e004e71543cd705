import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type HttpErrorCode as ErrorCode, errorStatus } from '../errors.ts';

/**
 * How a route reads in the OpenAPI document, decided in one place:
 * - security: none unless the route says so (requireApiKey marks every route it guards);
 * - errors: the codes every route of its kind can answer (a schema'd input: validation_failed; a
 *   body: invalid_json, payload_too_large, unsupported_media_type; any: internal_error), plus the
 *   ones it declares in `errors`, grouped by status, each pointing at the one Error component;
 * - answers a route writes itself, without a response schema (so without serialising them), are
 *   declared in `documentedResponses`;
 * - the provider sandbox (everything under /sandbox/) is tagged as such and carries no errors of
 *   tether's: its simulators answer in the providers' own shapes.
 */

declare module 'fastify' {
  interface FastifySchema {
    /** Error codes this route can answer besides those of every route; documentation only. */
    errors?: readonly ErrorCode[];
    /** Answers the route writes itself, documented without a response schema. */
    documentedResponses?: Record<string, { description: string; schema?: z.ZodType }>;
  }
}

export const ErrorBody = z
  .object({
    error: z.object({
      // Every code tether can answer, so typed clients (packages/client) get them as a union.
      code: z
        .enum(Object.keys(errorStatus) as [ErrorCode, ...ErrorCode[]])
        .describe('Stable, snake_case: see docs/errors.md'),
      message: z.string().describe('A sentence for a person'),
    }),
  })
  .describe('Every error tether answers, whatever rejected the request');

export const ERROR_COMPONENT = 'Error';
export const SANDBOX_TAG = 'sandbox';
export const SANDBOX_CONTROL_TAG = 'sandbox-control';

type TransformInput = Parameters<typeof jsonSchemaTransform>[0];
type Transformed = ReturnType<typeof jsonSchemaTransform>;

export function documentRoute(input: TransformInput): Transformed {
  const given = input.schema ?? {};
  const { schema, url } = jsonSchemaTransform(input);
  if (given.hide) return { schema, url };
  const { errors: _, documentedResponses: __, ...rest } = (schema ?? {}) as Record<string, unknown>;
  if (input.url.startsWith('/sandbox/')) {
    const tag = input.url.startsWith('/sandbox/_control/') ? SANDBOX_CONTROL_TAG : SANDBOX_TAG;
    return { url, schema: { ...rest, tags: [tag], security: [] } as Transformed['schema'] };
  }
  const response = { ...((rest.response ?? {}) as Record<string, unknown>) };
  for (const [status, doc] of Object.entries(given.documentedResponses ?? {})) {
    response[status] ??= {
      ...(doc.schema ? z.toJSONSchema(doc.schema, { io: 'output' }) : { type: 'null' }),
      description: doc.description,
    };
  }
  for (const [status, codes] of errorsByStatus(errorCodes(given))) {
    response[status] ??= {
      description: codes.map((code) => `\`${code}\``).join(', '),
      allOf: [{ $ref: `#/components/schemas/${ERROR_COMPONENT}` }],
      // One example per code the route can answer with this status, as clients will see it.
      examples: codes.map((code) => ({ error: { code, message: `A sentence saying why (${code}).` } })),
    };
  }
  return { url, schema: { ...rest, security: rest.security ?? [], response } as Transformed['schema'] };
}

function errorCodes(schema: NonNullable<TransformInput['schema']>): ErrorCode[] {
  const codes = new Set<ErrorCode>(schema.errors ?? []);
  if (schema.params || schema.querystring || schema.body || schema.headers) codes.add('validation_failed');
  if (schema.body) {
    codes.add('invalid_json');
    codes.add('payload_too_large');
    codes.add('unsupported_media_type');
  }
  codes.add('internal_error');
  return [...codes];
}

function errorsByStatus(codes: ErrorCode[]): [string, ErrorCode[]][] {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes)
    byStatus.set(errorStatus[code], [...(byStatus.get(errorStatus[code]) ?? []), code]);
  return [...byStatus].sort(([a], [b]) => a - b).map(([status, list]) => [String(status), list]);
}
