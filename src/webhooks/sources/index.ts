import type { Db } from '../../db/client.ts';
import type { EffectResult, WebhookEffectInput } from '../effects/types.ts';
import { docusignConnectSource } from './docusign-connect.ts';
import { gmailPubsubSource } from './gmail-pubsub.ts';
import { paypalSource } from './paypal.ts';
import type { WebhookSourceDefinition } from './source.ts';
import { stripeSource } from './stripe.ts';

/**
 * Every webhook source tether receives from. Adding one is its definition here, its effect and
 * its sandbox sender: the source list, the integration body, the verifier registry, the effect
 * dispatch and the sandbox seeding all come from this list.
 */
export const WEBHOOK_SOURCE_DEFINITIONS = [
  stripeSource,
  paypalSource,
  docusignConnectSource,
  gmailPubsubSource,
] as const;

export type WebhookSource = (typeof WEBHOOK_SOURCE_DEFINITIONS)[number]['name'];
export const WEBHOOK_SOURCES = WEBHOOK_SOURCE_DEFINITIONS.map(
  (source) => source.name,
) as readonly WebhookSource[];

const BY_NAME = new Map<string, WebhookSourceDefinition>(
  WEBHOOK_SOURCE_DEFINITIONS.map((source) => [source.name, source as unknown as WebhookSourceDefinition]),
);

export function isWebhookSource(value: string): value is WebhookSource {
  return BY_NAME.has(value);
}

/** The definition of a source; undefined for a name that is not one. */
export function webhookSource(name: string): WebhookSourceDefinition | undefined {
  return BY_NAME.get(name);
}

/** The fields of the integration body owned by some source, merged (each source's own names). */
type Union = (typeof WEBHOOK_SOURCE_DEFINITIONS)[number]['body'];
type Merged = (Union extends unknown ? (body: Union) => void : never) extends (body: infer B) => void
  ? B
  : never;
export const WEBHOOK_BODY_FIELDS = Object.assign(
  {},
  ...WEBHOOK_SOURCE_DEFINITIONS.map((s) => s.body),
) as Merged;

/**
 * Every queue a follow-up may name, with the options it must be created with. pg-boss refuses a
 * send to a queue that does not exist, which would fail the event: the webhook worker creates
 * these at start, before it runs.
 */
export const FOLLOW_UP_QUEUES = WEBHOOK_SOURCE_DEFINITIONS.flatMap(
  (source) => source.effect.followUpQueues ?? [],
);

export function applySourceEffect(tx: Db, event: WebhookEffectInput): Promise<EffectResult> | undefined {
  return webhookSource(event.source)?.effect.apply(tx, event);
}
