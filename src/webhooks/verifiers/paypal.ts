import { constants, verify as rsaVerify } from 'node:crypto';
import { crc32 } from 'node:zlib';
import {
  bundledTrustAnchors,
  type CertPolicy,
  type CertUrlPolicy,
  checkCertUrl,
  checkPaypalCert,
  makeTrustAnchors,
  PAYPAL_CERT_CN_SUFFIX,
  PAYPAL_CERT_HOSTS,
} from './paypal-cert-checks.ts';
import { makePaypalCertStore, type PaypalCertStore } from './paypal-certs.ts';
import { makePaypalOnlineCheck, type PaypalOnlineOptions } from './paypal-online.ts';
import { jsonObject, singleHeader, stringField } from './request.ts';
import {
  accept,
  type Rejection,
  reject,
  type VerifyResult,
  type WebhookRequest,
  type WebhookVerifier,
} from './types.ts';

// PayPal signs with RSA, not an HMAC: SHA256withRSA (PKCS#1 v1.5) over
//   `${PAYPAL-TRANSMISSION-ID}|${PAYPAL-TRANSMISSION-TIME}|${our webhook id}|${crc32(raw body)}`
// with the key of the certificate at PAYPAL-CERT-URL. The webhook id is OUR configured one,
// never read from the request: a delivery meant for another listener fails.
// Checked in this order, cheapest and most local first (nothing is fetched for a stale or
// malformed delivery):
//   five headers present → algorithm SHA256withRSA → transmission time well-formed and within
//   the window (default 300 s past, 60 s future) → cert URL allowed → signature (offline:
//   certificate fetched once per URL, validity, CN, chain, RSA verify; online: PayPal's API) →
//   JSON event with id and event_type.

const PAYPAL_DEFAULT_MAX_AGE_SECONDS = 300;
const PAYPAL_DEFAULT_MAX_FUTURE_SECONDS = 60;

export interface PaypalVerifierOptions {
  /** The id PayPal gave our webhook listener. */
  webhookId: string;
  /** Share one store between PayPal integrations (the registry does); default: a store of its own. */
  certStore?: PaypalCertStore;
  /** Hosts a certificate may come from over https; default PayPal's four API hosts. */
  allowedCertHosts?: readonly string[];
  /** Exact origins allowed whatever the scheme, e.g. the sandbox's `http://127.0.0.1:4010`. */
  allowedCertOrigins?: readonly string[];
  /** Default `.paypal.com`. */
  certCommonNameSuffix?: string;
  /** PEM trust anchors for the chain check; default Node's bundled Mozilla roots. */
  trustedCaPems?: readonly string[];
  /** Default true. */
  verifyCertChain?: boolean;
  maxAgeSeconds?: number;
  maxFutureSeconds?: number;
  /** When given, PayPal's verify-webhook-signature API decides instead of the certificate. */
  online?: PaypalOnlineOptions;
}

export interface PaypalEvent {
  id: string;
  event_type: string;
  [key: string]: unknown;
}

/** The signed string; crc32 is zlib's (IEEE), unsigned decimal. */
export function paypalSignedString(
  transmissionId: string,
  time: string,
  webhookId: string,
  rawBody: Uint8Array,
) {
  return `${transmissionId}|${time}|${webhookId}|${crc32(rawBody)}`;
}

const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d)$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export function makePaypalVerifier(options: PaypalVerifierOptions): WebhookVerifier<PaypalEvent> {
  if (!options.webhookId) throw new TypeError('"webhookId" must be a non-empty string');
  const urlPolicy: CertUrlPolicy = {
    allowedHosts: options.allowedCertHosts ?? PAYPAL_CERT_HOSTS,
    allowedOrigins: options.allowedCertOrigins ?? [],
  };
  const certPolicy: CertPolicy = {
    commonNameSuffix: options.certCommonNameSuffix ?? PAYPAL_CERT_CN_SUFFIX,
    trust:
      options.verifyCertChain === false
        ? null
        : options.trustedCaPems
          ? makeTrustAnchors(options.trustedCaPems)
          : bundledTrustAnchors(),
  };
  const store = options.certStore ?? makePaypalCertStore();
  const online = options.online ? makePaypalOnlineCheck(options.online) : undefined;
  const maxAge = options.maxAgeSeconds ?? PAYPAL_DEFAULT_MAX_AGE_SECONDS;
  const maxFuture = options.maxFutureSeconds ?? PAYPAL_DEFAULT_MAX_FUTURE_SECONDS;

  const verifyOffline = async (h: PaypalHeaders, request: WebhookRequest, certUrl: string, now: Date) => {
    const chain = await store.get(certUrl);
    if (!Array.isArray(chain)) return chain as Rejection;
    const key = checkPaypalCert(chain, certPolicy, now);
    if ('reason' in key) return key;
    const signed = paypalSignedString(
      h.transmissionId,
      h.transmissionTime,
      options.webhookId,
      request.rawBody,
    );
    let ok = false;
    try {
      ok = rsaVerify(
        'sha256',
        Buffer.from(signed, 'utf8'),
        { key, padding: constants.RSA_PKCS1_PADDING },
        Buffer.from(h.signature, 'base64'),
      );
    } catch {
      // a signature of the wrong size for the key: simply not a match
    }
    return ok ? undefined : reject('bad_signature', 'The transmission signature does not verify.');
  };

  const verifyOnline = async (h: PaypalHeaders, event: Record<string, unknown>, certUrl: string) => {
    const status = await online!({
      auth_algo: h.algorithm,
      cert_url: certUrl,
      transmission_id: h.transmissionId,
      transmission_sig: h.signature,
      transmission_time: h.transmissionTime,
      webhook_id: options.webhookId,
      webhook_event: event,
    });
    if (status === 'SUCCESS') return undefined;
    return status === 'FAILURE'
      ? reject('bad_signature', 'PayPal answered verification_status FAILURE.')
      : status;
  };

  return {
    source: 'paypal',
    async verify(request, now = new Date()): Promise<VerifyResult<PaypalEvent>> {
      const h = readHeaders(request);
      if ('reason' in h) return h;
      if (h.algorithm !== 'SHA256withRSA') {
        return reject('malformed_header', 'PAYPAL-AUTH-ALGO must be SHA256withRSA.');
      }
      if (!TIME.test(h.transmissionTime) || !BASE64.test(h.signature)) {
        return reject(
          'malformed_header',
          'PAYPAL-TRANSMISSION-TIME or PAYPAL-TRANSMISSION-SIG is malformed.',
        );
      }
      const age = Math.round((now.getTime() - Date.parse(h.transmissionTime)) / 1000);
      if (Number.isNaN(age)) return reject('malformed_header', 'PAYPAL-TRANSMISSION-TIME is not a date.');
      if (age > maxAge || -age > maxFuture) {
        return reject(
          'timestamp_out_of_range',
          `The transmission time is ${Math.abs(age)} s in the ${age > 0 ? 'past' : 'future'}; allowed: ${maxAge} s past, ${maxFuture} s future.`,
        );
      }
      const certUrl = checkCertUrl(h.certUrl, urlPolicy);
      if (!certUrl.ok) return certUrl;

      const event = jsonObject(request.rawBody);
      if (online) {
        if (!event) return malformed();
        const failed = await verifyOnline(h, event, certUrl.url);
        if (failed) return failed;
      } else {
        const failed = await verifyOffline(h, request, certUrl.url, now);
        if (failed) return failed;
      }
      const id = event && stringField(event, 'id');
      const type = event && stringField(event, 'event_type');
      if (!event || !id || !type) return malformed();
      return accept(id, type, event as PaypalEvent);
    },
  };
}

interface PaypalHeaders {
  transmissionId: string;
  transmissionTime: string;
  signature: string;
  certUrl: string;
  algorithm: string;
}

function readHeaders(request: WebhookRequest): PaypalHeaders | Rejection {
  const names = {
    transmissionId: 'PAYPAL-TRANSMISSION-ID',
    transmissionTime: 'PAYPAL-TRANSMISSION-TIME',
    signature: 'PAYPAL-TRANSMISSION-SIG',
    certUrl: 'PAYPAL-CERT-URL',
    algorithm: 'PAYPAL-AUTH-ALGO',
  } as const;
  const out: Partial<PaypalHeaders> = {};
  for (const [field, name] of Object.entries(names) as [keyof PaypalHeaders, string][]) {
    const value = singleHeader(request.headers, name);
    if (!value.ok) return value;
    out[field] = value.value;
  }
  return out as PaypalHeaders;
}

function malformed(): Rejection {
  return reject(
    'malformed_payload',
    'The body is not a PayPal event (a JSON object with "id" and "event_type").',
  );
}
