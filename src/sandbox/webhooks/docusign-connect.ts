import { createHmac } from 'node:crypto';
import type { Outbound } from './delivery.ts';
import { makeRandom } from './random.ts';

// DocuSign Connect 2.0, JSON SIM (one message per event). HMAC-SHA256 of the whole raw body
// with each active Connect key, base64, one header per key: X-DocuSign-Signature-1, -2, …
// No timestamp is signed. A retry is a new body (retryCount + 1), re-signed; the dedupe key
// (envelopeId, event, generatedDateTime) does not change.

export const DOCUSIGN_EVENTS = [
  'envelope-created',
  'envelope-sent',
  'envelope-delivered',
  'recipient-completed',
  'envelope-completed',
  'envelope-declined',
  'envelope-voided',
] as const;
export type DocusignEvent = (typeof DOCUSIGN_EVENTS)[number];

const STATUS: Record<DocusignEvent, string> = {
  'envelope-created': 'created',
  'envelope-sent': 'sent',
  'envelope-delivered': 'delivered',
  'recipient-completed': 'signed',
  'envelope-completed': 'completed',
  'envelope-declined': 'declined',
  'envelope-voided': 'voided',
};

export interface ConnectPayload {
  event: string;
  apiVersion: 'v2.1';
  uri: string;
  retryCount: number;
  configurationId: number;
  generatedDateTime: string;
  data: {
    accountId: string;
    userId: string;
    envelopeId: string;
    envelopeSummary: Record<string, unknown>;
  };
}

export interface ConnectPayloadOptions {
  seed?: string | number;
  accountId?: string;
  userId?: string;
  envelopeId?: string;
  configurationId?: number;
  generatedDateTime?: Date;
  /** Merged over the generated envelopeSummary. */
  envelopeSummary?: Record<string, unknown>;
}

export function makeConnectPayload(
  event: DocusignEvent,
  options: ConnectPayloadOptions = {},
): ConnectPayload {
  const rnd = makeRandom(options.seed);
  const accountId = options.accountId ?? rnd.uuid();
  const userId = options.userId ?? rnd.uuid();
  const envelopeId = options.envelopeId ?? rnd.uuid();
  const at = (options.generatedDateTime ?? new Date()).toISOString();
  const status = STATUS[event];
  const base = `/restapi/v2.1/accounts/${accountId}/envelopes/${envelopeId}`;
  const signerStatus =
    { signed: 'completed', completed: 'completed', declined: 'declined' }[status] ?? status;
  return {
    event,
    apiVersion: 'v2.1',
    uri: base,
    retryCount: 0,
    configurationId: options.configurationId ?? Number(rnd.digits(8)),
    generatedDateTime: at,
    data: {
      accountId,
      userId,
      envelopeId,
      envelopeSummary: {
        status,
        emailSubject: 'Please DocuSign: sandbox-agreement.pdf',
        envelopeId,
        envelopeUri: base,
        documentsUri: `${base}/documents`,
        recipientsUri: `${base}/recipients`,
        createdDateTime: at,
        lastModifiedDateTime: at,
        statusChangedDateTime: at,
        ...(status === 'completed' ? { completedDateTime: at } : {}),
        ...(status === 'declined' ? { declinedDateTime: at } : {}),
        ...(status === 'voided' ? { voidedDateTime: at, voidedReason: 'Voided in the tether sandbox' } : {}),
        sender: { userName: 'Sandbox Sender', userId, accountId, email: 'sender@example.com' },
        recipients: {
          signers: [
            { recipientId: '1', name: 'Sandbox Signer', email: 'signer@example.com', status: signerStatus },
          ],
        },
        ...options.envelopeSummary,
      },
    },
  };
}

/** base64(HMAC-SHA256(key, rawBody)); DocuSign keys are used as their UTF-8 string. */
export function docusignSignature(body: string, key: string): string {
  return createHmac('sha256', Buffer.from(key, 'utf8')).update(body, 'utf8').digest('base64');
}

export function docusignSignatureHeaders(body: string, keys: readonly string[]): Record<string, string> {
  return Object.fromEntries(
    keys.map((key, i) => [`x-docusign-signature-${i + 1}`, docusignSignature(body, key)]),
  );
}

export interface ConnectOutboundOptions {
  /** Active HMAC keys, in Connect's order; several during a rotation. Empty sends unsigned. */
  keys: readonly string[];
}

export function makeConnectOutbound(
  payload: ConnectPayload | string,
  options: ConnectOutboundOptions,
): Outbound {
  if (typeof payload === 'string') {
    // A raw body is sent as is on every attempt: the sandbox cannot bump its retryCount.
    return outbound(readDedupeKey(payload), () => payload, options);
  }
  const key = `${payload.data.envelopeId}|${payload.event}|${payload.generatedDateTime}`;
  return outbound(
    key,
    (attempt) => JSON.stringify({ ...payload, retryCount: payload.retryCount + attempt - 1 }),
    options,
  );
}

function outbound(
  dedupeKey: string,
  body: (attempt: number) => string,
  options: ConnectOutboundOptions,
): Outbound {
  return {
    source: 'docusign-connect',
    dedupeKey,
    build: ({ attempt }) => {
      const raw = body(attempt);
      return {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'DocuSign Connect',
          ...docusignSignatureHeaders(raw, options.keys),
        },
        body: raw,
      };
    },
  };
}

function readDedupeKey(raw: string): string {
  try {
    const p = JSON.parse(raw) as Partial<ConnectPayload>;
    return `${p.data?.envelopeId ?? ''}|${p.event ?? ''}|${p.generatedDateTime ?? ''}`;
  } catch {
    return '';
  }
}
