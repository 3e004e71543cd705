import { z } from 'zod';
import type { Outbound, WebhookSource } from './delivery.ts';
import { DOCUSIGN_EVENTS, makeConnectOutbound, makeConnectPayload } from './docusign-connect.ts';
import { makePaypalOutbound } from './paypal.ts';
import { DEFAULT_PAYPAL_CERT } from './paypal-certs.ts';
import { makePaypalEvent, PAYPAL_EVENT_TYPES } from './paypal-events.ts';
import { makeGmailPushBody, makePubsubOutbound } from './pubsub.ts';
import type { SandboxWebhookSecrets } from './sender-facts.ts';
import type { WebhookSenderState } from './sender-state.ts';
import { makeStripeOutbound } from './stripe.ts';
import { makeStripeEvent, STRIPE_EVENT_TYPES } from './stripe-events.ts';

// The body of POST /_control/webhooks/<source>/send for each sender, and how it becomes
// outbounds. Every body names a target, either `events` (built by the sandbox's factories)
// or `raw` (exact body strings, sent as given and signed), and optional delivery options.

const seed = z.union([z.string(), z.number()]);
export const deliveryOptionsSchema = z
  .object({
    duplicates: z.int().min(1).max(100).optional(),
    concurrency: z.int().min(1).max(100).optional(),
    reorder: z.boolean().optional(),
    seed: seed.optional(),
    retry: z
      .union([
        z.boolean(),
        z.strictObject({
          maxAttempts: z.int().min(1).max(1000).optional(),
          timeScale: z.number().min(0).max(1).optional(),
          delaysMs: z.array(z.number().min(0)).max(1000).optional(),
        }),
      ])
      .optional(),
    timeoutMs: z.int().min(1).max(120_000).optional(),
  })
  .strict();

const common = {
  target: z.url({ protocol: /^https?$/ }),
  raw: z.array(z.string()).min(1).max(100).optional(),
  delivery: deliveryOptionsSchema.optional(),
};
const oneOfEventsOrRaw = (b: { events?: unknown[]; raw?: unknown[] }) =>
  (b.events === undefined) !== (b.raw === undefined);
const oneOfMessage = { message: 'Give either "events" or "raw", not both.' };
const list = <T extends z.ZodType>(item: T) => z.array(item).min(1).max(100).optional();
const isoDate = z.iso.datetime({ offset: true });
const dateOr = (iso: string | undefined, fallback: Date) => (iso === undefined ? fallback : new Date(iso));

export const stripeSendSchema = z
  .strictObject({
    ...common,
    /** Default: the sandbox's own Stripe secret (tether's sandbox only). */
    secrets: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
    timestamp: z.int().optional(),
    events: list(
      z.strictObject({
        type: z.enum(STRIPE_EVENT_TYPES),
        seed: seed.optional(),
        created: z.int().optional(),
        amount: z.int().optional(),
        currency: z.string().optional(),
        customer: z.string().optional(),
        object: z.record(z.string(), z.unknown()).optional(),
      }),
    ),
  })
  .refine(oneOfEventsOrRaw, oneOfMessage);

export const paypalSendSchema = z
  .strictObject({
    ...common,
    /** Default: the sandbox's own webhook id (tether's sandbox only). */
    webhookId: z.string().min(1).optional(),
    /** Name of a sandbox certificate (see POST /_control/webhooks/paypal/certs). */
    cert: z.string().default(DEFAULT_PAYPAL_CERT),
    transmissionId: z.string().min(1).optional(),
    transmissionTime: z.string().min(1).optional(),
    events: list(
      z.strictObject({
        type: z.enum(PAYPAL_EVENT_TYPES),
        seed: seed.optional(),
        createTime: isoDate.optional(),
        value: z.string().optional(),
        currency: z.string().optional(),
        resource: z.record(z.string(), z.unknown()).optional(),
      }),
    ),
  })
  .refine(oneOfEventsOrRaw, oneOfMessage);

export const docusignSendSchema = z
  .strictObject({
    ...common,
    /** Active Connect HMAC keys; an empty list sends unsigned messages. Default: the sandbox's own key. */
    keys: z.array(z.string().min(1)).max(10).optional(),
    events: list(
      z.strictObject({
        event: z.enum(DOCUSIGN_EVENTS),
        seed: seed.optional(),
        accountId: z.string().optional(),
        userId: z.string().optional(),
        envelopeId: z.string().optional(),
        configurationId: z.int().optional(),
        generatedDateTime: isoDate.optional(),
        envelopeSummary: z.record(z.string(), z.unknown()).optional(),
      }),
    ),
  })
  .refine(oneOfEventsOrRaw, oneOfMessage);

const nullable = <T extends z.ZodType>(t: T) => t.nullable().optional();
export const pubsubSendSchema = z
  .strictObject({
    ...common,
    /** Defaults to the target URL, as Pub/Sub does. */
    audience: z.string().min(1).optional(),
    serviceAccount: z.string().min(1).optional(),
    claims: z
      .strictObject({
        iss: nullable(z.string()),
        aud: nullable(z.union([z.string(), z.array(z.string())])),
        azp: nullable(z.string()),
        email: nullable(z.string()),
        email_verified: nullable(z.boolean()),
        iat: nullable(z.number()),
        exp: nullable(z.number()),
        sub: nullable(z.string()),
      })
      .optional(),
    signWith: z.enum(['current', 'rogue']).optional(),
    kid: z.string().optional(),
    unauthenticated: z.boolean().optional(),
    events: list(
      z.strictObject({
        emailAddress: z.string().min(1),
        historyId: z.union([z.string(), z.number()]),
        messageId: z.string().optional(),
        subscription: z.string().optional(),
        publishTime: isoDate.optional(),
        dataEncoding: z.enum(['base64', 'base64url']).optional(),
        seed: seed.optional(),
      }),
    ),
  })
  .refine(oneOfEventsOrRaw, oneOfMessage);

export interface BuildContext {
  state: WebhookSenderState;
  now: Date;
  /** Absolute URL of a sandbox PayPal certificate. */
  certUrl(name: string): string;
  /** What a send that names no secret signs with; absent on a standalone sandbox. */
  secrets?: SandboxWebhookSecrets;
}

const noDefault = (field: string) =>
  `Give "${field}": this sandbox has no default secret (only the sandbox mounted in tether has one).`;

export interface SendSpec<S extends z.ZodType> {
  schema: S;
  /** Outbounds to send, or a message saying what in the body cannot be honoured. */
  build(body: z.output<S>, ctx: BuildContext): Outbound[] | string;
}

/** Per-event seeds derived from the delivery seed, so one seed fixes a whole batch. */
const seedFor = (
  own: string | number | undefined,
  body: { delivery?: { seed?: string | number } },
  i: number,
) => own ?? (body.delivery?.seed === undefined ? undefined : `${body.delivery.seed}:${i}`);

export const SEND_SPECS = {
  stripe: {
    schema: stripeSendSchema,
    build: (body, { now, secrets }) => {
      const signWith = body.secrets ?? secrets?.stripe;
      if (signWith === undefined) return noDefault('secrets');
      const created = Math.floor(now.getTime() / 1000);
      const payloads =
        body.raw ??
        body.events!.map((e, i) =>
          makeStripeEvent(e.type, { created, ...e, seed: seedFor(e.seed, body, i) }),
        );
      return payloads.map((p) => makeStripeOutbound(p, { secrets: signWith, timestamp: body.timestamp }));
    },
  } satisfies SendSpec<typeof stripeSendSchema>,
  paypal: {
    schema: paypalSendSchema,
    build: (body, { state, now, certUrl, secrets }) => {
      const webhookId = body.webhookId ?? secrets?.paypalWebhookId;
      if (webhookId === undefined) return noDefault('webhookId');
      const cert = state.paypalCerts.get(body.cert);
      if (!cert) return `No sandbox PayPal certificate is named "${body.cert}".`;
      const payloads =
        body.raw ??
        body.events!.map((e, i) =>
          makePaypalEvent(e.type, {
            ...e,
            createTime: dateOr(e.createTime, now),
            seed: seedFor(e.seed, body, i),
          }),
        );
      return payloads.map((p) =>
        makePaypalOutbound(p, {
          webhookId,
          cert,
          certUrl: certUrl(cert.name),
          transmissionId: body.transmissionId,
          transmissionTime: body.transmissionTime,
          onSigned: state.paypalLog.record,
        }),
      );
    },
  } satisfies SendSpec<typeof paypalSendSchema>,
  'docusign-connect': {
    schema: docusignSendSchema,
    build: (body, { now, secrets }) => {
      const keys = body.keys ?? (secrets ? [secrets.docusignConnect] : undefined);
      if (keys === undefined) return noDefault('keys');
      const payloads =
        body.raw ??
        body.events!.map((e, i) =>
          makeConnectPayload(e.event, {
            ...e,
            generatedDateTime: dateOr(e.generatedDateTime, now),
            seed: seedFor(e.seed, body, i),
          }),
        );
      return payloads.map((p) => makeConnectOutbound(p, { keys }));
    },
  } satisfies SendSpec<typeof docusignSendSchema>,
  'gmail-pubsub': {
    schema: pubsubSendSchema,
    build: (body, { state, now }) => {
      const payloads =
        body.raw ??
        body.events!.map((e, i) =>
          makeGmailPushBody({
            ...e,
            publishTime: dateOr(e.publishTime, now),
            seed: seedFor(e.seed, body, i),
          }),
        );
      return payloads.map((p) =>
        makePubsubOutbound(p, {
          keys: state.pushKeys,
          audience: body.audience ?? body.target,
          serviceAccount: body.serviceAccount,
          claims: body.claims,
          signWith: body.signWith,
          kid: body.kid,
          unauthenticated: body.unauthenticated,
        }),
      );
    },
  } satisfies SendSpec<typeof pubsubSendSchema>,
} satisfies Record<WebhookSource, SendSpec<z.ZodType>>;

export type SendBody<S extends WebhookSource> = z.input<(typeof SEND_SPECS)[S]['schema']>;
