import { type KeyObject, sign } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { type Outbound, readJsonId } from './delivery.ts';
import type { PaypalCert } from './paypal-certs.ts';
import { makeRandom } from './random.ts';

// PayPal's webhook signature (no HMAC): SHA256withRSA (RSASSA-PKCS1-v1_5) over
//   `${transmissionId}|${transmissionTime}|${webhookId}|${crc32(rawBody) as unsigned decimal}`
// with the private key of the certificate served at PAYPAL-CERT-URL. The webhook id is the
// receiver's configured listener id: it is signed but never sent.

export interface PaypalTransmission {
  transmissionId: string;
  transmissionTime: string;
  webhookId: string;
  body: string;
}

/** CRC-32 (IEEE, as zlib) of the raw body bytes; zlib already returns it unsigned. */
export function paypalCrc32(body: string | Uint8Array): number {
  return crc32(body);
}

export function paypalSignedString(t: PaypalTransmission): string {
  return `${t.transmissionId}|${t.transmissionTime}|${t.webhookId}|${paypalCrc32(t.body)}`;
}

export function signPaypalTransmission(t: PaypalTransmission, privateKey: KeyObject): string {
  return sign('sha256', Buffer.from(paypalSignedString(t), 'utf8'), privateKey).toString('base64');
}

/** PayPal sends second precision with a Z: `2016-09-21T22:00:46Z`. */
export function paypalTransmissionTime(now: Date): string {
  return `${now.toISOString().slice(0, 19)}Z`;
}

export interface PaypalOutboundOptions {
  webhookId: string;
  cert: PaypalCert;
  /** Absolute URL at which `cert` is served (see the sandbox routes). */
  certUrl: string;
  transmissionId?: string;
  /** Sends this exact PAYPAL-TRANSMISSION-TIME on every attempt (stale/future tests). */
  transmissionTime?: string;
  /** Called with each signed transmission, so the online verify endpoint can find its raw body. */
  onSigned?(t: PaypalTransmission): void;
}

/**
 * A PayPal delivery. The body (and its `WH-…` id, the dedupe key) is the same bytes on every
 * attempt. The transmission id names the transmission of this event to this listener and is
 * kept across retries (PayPal's event lookup lists one transmission per listener); the
 * transmission time is the attempt's own, re-signed, so a retry days later is still fresh.
 */
export function makePaypalOutbound(event: object | string, options: PaypalOutboundOptions): Outbound {
  const body = typeof event === 'string' ? event : JSON.stringify(event);
  const transmissionId = options.transmissionId ?? makeRandom().uuid();
  return {
    source: 'paypal',
    dedupeKey: readJsonId(body),
    build: ({ now }) => {
      const t: PaypalTransmission = {
        transmissionId,
        transmissionTime: options.transmissionTime ?? paypalTransmissionTime(now),
        webhookId: options.webhookId,
        body,
      };
      const signature = signPaypalTransmission(t, options.cert.privateKey);
      options.onSigned?.(t);
      return {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'PayPal/AUHD-214.0-58843509',
          'correlation-id': makeRandom().chars(13, '0123456789abcdef'),
          'paypal-auth-algo': 'SHA256withRSA',
          'paypal-auth-version': 'v2',
          'paypal-cert-url': options.certUrl,
          'paypal-transmission-id': t.transmissionId,
          'paypal-transmission-sig': signature,
          'paypal-transmission-time': t.transmissionTime,
        },
        body,
      };
    },
  };
}
