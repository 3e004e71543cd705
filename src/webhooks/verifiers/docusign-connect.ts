import { createHmac } from 'node:crypto';
import { safeEqual } from '../../crypto/constant-time.ts';
import { isRecord, jsonObject, stringField } from './request.ts';
import { accept, reject, type VerifyResult, type WebhookRequest, type WebhookVerifier } from './types.ts';

// DocuSign Connect (JSON SIM): one header per active Connect key, X-DocuSign-Signature-1, -2, …,
// each base64(HMAC-SHA256(key, raw body)). A delivery passes when any header matches any of
// our configured keys, so rotation is: add the new key in DocuSign and here, deploy, remove the
// old one from both. No timestamp is signed (no replay protection: dedupe does that).
// No event id either: the dedupe key is `envelopeId|event|generatedDateTime` (retryCount
// changes between attempts, so the body itself is never the key).

const SIGNATURE_HEADER = /^x-docusign-signature-(\d{1,3})$/i;

export interface DocusignConnectVerifierOptions {
  /** Connect HMAC keys, as DocuSign shows them (used as UTF-8 strings). */
  keys: readonly string[];
}

export interface DocusignConnectEvent {
  event: string;
  generatedDateTime: string;
  data: { envelopeId: string; [key: string]: unknown };
  [key: string]: unknown;
}

export function makeDocusignConnectVerifier(
  options: DocusignConnectVerifierOptions,
): WebhookVerifier<DocusignConnectEvent> {
  if (options.keys.length === 0 || options.keys.some((k) => k === '')) {
    throw new TypeError('"keys" must hold at least one non-empty key');
  }
  const keys = [...options.keys];

  return {
    source: 'docusign-connect',
    async verify(request: WebhookRequest): Promise<VerifyResult<DocusignConnectEvent>> {
      const signatures = signatureHeaders(request.headers);
      if (signatures.length === 0) {
        return reject('missing_header', 'No X-DocuSign-Signature-N header is present.');
      }
      const matched = keys.some((key) => {
        const expected = createHmac('sha256', key).update(request.rawBody).digest('base64');
        // String comparison through the one helper: a signature of another length, or not
        // base64 at all, is simply unequal.
        return signatures.some((candidate) => safeEqual(candidate, expected));
      });
      if (!matched) {
        return reject(
          'bad_signature',
          'No X-DocuSign-Signature-N header matches the body under any configured key.',
        );
      }

      const body = jsonObject(request.rawBody);
      const data = body && isRecord(body.data) ? body.data : undefined;
      const event = body && stringField(body, 'event');
      const generated = body && stringField(body, 'generatedDateTime');
      const envelopeId = data && stringField(data, 'envelopeId');
      if (!body || !event || !generated || !envelopeId) {
        return reject(
          'malformed_payload',
          'The body is not a Connect JSON message (event, generatedDateTime and data.envelopeId).',
        );
      }
      return accept(`${envelopeId}|${event}|${generated}`, event, body as DocusignConnectEvent);
    },
  };
}

function signatureHeaders(headers: WebhookRequest['headers']): string[] {
  const values: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || !SIGNATURE_HEADER.test(name)) continue;
    for (const v of typeof value === 'string' ? [value] : value) values.push(v.trim());
  }
  return values;
}
