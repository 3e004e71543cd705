import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { requestOrigin } from '../http.ts';
import { deliver } from './deliver.ts';
import { WEBHOOK_SOURCES, type WebhookSource } from './delivery.ts';
import { SEND_SPECS, type SendSpec } from './send-specs.ts';
import { type SandboxWebhookSecrets, webhookSenderFacts } from './sender-facts.ts';
import type { WebhookSenderState } from './sender-state.ts';

// Control API of the webhook senders (tests and demos drive the sandbox with these):
//   POST /_control/webhooks/:source/send   build, sign and deliver; answers the attempt report
//   POST /_control/webhooks/paypal/certs   issue an extra PayPal certificate (expired, wrong CN, …)
//   GET  /_control/webhooks/config         what a tether verifier must be configured with, and
//                                          the default secrets when the sandbox has them
// Like the core's control routes they carry no endpoint key, so faults and call counts never
// touch them, and errors use the control API's shape {"error": {"code", "message"}}.

export interface ControlRoutesDeps {
  state: WebhookSenderState;
  /** Where the senders are mounted, e.g. '/sandbox'. */
  prefix: string;
  /** Used when a send names no secret; the config route tells them. */
  secrets?: SandboxWebhookSecrets;
  now(): Date;
  certPath(name: string): string;
  allowTarget(url: URL): boolean;
}

const issueCertBody = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/),
  commonName: z.string().min(1).optional(),
  notBefore: z.iso.datetime({ offset: true }).optional(),
  notAfter: z.iso.datetime({ offset: true }).optional(),
  sameKeyAsDefault: z.boolean().optional(),
  foreignIssuer: z.boolean().optional(),
});
export type IssueCertBody = z.input<typeof issueCertBody>;

export function registerControlRoutes(app: FastifyInstance, deps: ControlRoutesDeps): void {
  const { state } = deps;

  app.post<{ Params: { source: string } }>('/_control/webhooks/:source/send', async (request, reply) => {
    const source = request.params.source;
    if (!isSource(source)) {
      return fail(
        reply,
        404,
        'not_found',
        `No webhook sender "${source}"; use one of ${WEBHOOK_SOURCES.join(', ')}.`,
      );
    }
    const spec: SendSpec<z.ZodType> = SEND_SPECS[source];
    const body = parse(reply, spec.schema, request.body) as { target: string; delivery?: object } | undefined;
    if (!body) return reply;
    const target = new URL(body.target);
    if (!deps.allowTarget(target)) {
      return fail(
        reply,
        403,
        'forbidden',
        `The sandbox does not deliver to ${target.host}: not an allowed target.`,
      );
    }
    const origin = requestOrigin(request);
    const certUrl = (name: string) => `${origin}${deps.certPath(name)}`;
    const outbounds = spec.build(body, { state, now: deps.now(), certUrl, secrets: deps.secrets });
    if (typeof outbounds === 'string') return fail(reply, 400, 'validation_failed', outbounds);
    return deliver(target, outbounds, { ...body.delivery, now: deps.now });
  });

  app.post('/_control/webhooks/paypal/certs', async (request, reply) => {
    const body = parse(reply, issueCertBody, request.body);
    if (!body) return reply;
    if (state.paypalCerts.get(body.name)) {
      return fail(reply, 409, 'conflict', `A sandbox PayPal certificate is already named "${body.name}".`);
    }
    const cert = await state.paypalCerts.issue({
      ...body,
      notBefore: body.notBefore === undefined ? undefined : new Date(body.notBefore),
      notAfter: body.notAfter === undefined ? undefined : new Date(body.notAfter),
    });
    return reply.code(201).send({
      name: cert.name,
      certUrl: `${requestOrigin(request)}${deps.certPath(cert.name)}`,
      commonName: cert.commonName,
      notBefore: cert.notBefore.toISOString(),
      notAfter: cert.notAfter.toISOString(),
    });
  });

  app.get('/_control/webhooks/config', async (request) =>
    webhookSenderFacts(`${requestOrigin(request)}${deps.prefix}`, state, deps.secrets),
  );
}

function isSource(value: string): value is WebhookSource {
  return (WEBHOOK_SOURCES as readonly string[]).includes(value);
}

function parse<S extends z.ZodType>(reply: FastifyReply, schema: S, body: unknown): z.output<S> | undefined {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const message = result.error.issues
    .map((issue) => (issue.path.length ? `"${issue.path.join('.')}" ${issue.message}` : issue.message))
    .join('; ');
  fail(reply, 400, 'validation_failed', message);
  return undefined;
}

function fail(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply.code(status).send({ error: { code, message } });
}
