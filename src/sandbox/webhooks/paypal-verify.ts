import { verify, X509Certificate } from 'node:crypto';
import { z } from 'zod';
import { type PaypalTransmission, paypalSignedString } from './paypal.ts';
import type { PaypalCert } from './paypal-certs.ts';

// The simulated online check, POST /v1/notifications/verify-webhook-signature. Like PayPal
// it answers 200 with verification_status SUCCESS or FAILURE; only a malformed request is a
// 400. The caller sends the event parsed (webhook_event), so the raw bytes are gone: the
// sandbox uses the body it recorded when it signed that transmission if it is the same
// event, else the compact JSON re-serialisation.

export const verifyWebhookSignatureBody = z.object({
  auth_algo: z.string().min(1),
  cert_url: z.string().min(1),
  transmission_id: z.string().min(1),
  transmission_sig: z.string().min(1),
  transmission_time: z.string().min(1),
  webhook_id: z.string().min(1),
  webhook_event: z.record(z.string(), z.unknown()),
});
export type VerifyWebhookSignatureBody = z.infer<typeof verifyWebhookSignatureBody>;

export interface TransmissionLog {
  record(t: PaypalTransmission): void;
  bodyOf(transmissionId: string): string | undefined;
}

/** Remembers the last `limit` signed bodies by transmission id. */
export function makeTransmissionLog(limit = 1000): TransmissionLog {
  const bodies = new Map<string, string>();
  return {
    record: (t) => {
      bodies.delete(t.transmissionId);
      bodies.set(t.transmissionId, t.body);
      if (bodies.size > limit) bodies.delete(bodies.keys().next().value!);
    },
    bodyOf: (id) => bodies.get(id),
  };
}

export interface OnlineVerifyDeps {
  /** The sandbox certificate a cert_url names, or undefined when it is not one of ours. */
  certFor(certUrl: string): PaypalCert | undefined;
  log: TransmissionLog;
  now: Date;
}

export function verifyPaypalOnline(
  req: VerifyWebhookSignatureBody,
  deps: OnlineVerifyDeps,
): 'SUCCESS' | 'FAILURE' {
  if (req.auth_algo !== 'SHA256withRSA') return 'FAILURE';
  const cert = deps.certFor(req.cert_url);
  if (!cert) return 'FAILURE';
  const x509 = new X509Certificate(cert.pem);
  const now = deps.now.getTime();
  if (now < Date.parse(x509.validFrom) || now > Date.parse(x509.validTo)) return 'FAILURE';

  const candidates = [JSON.stringify(req.webhook_event)];
  const recorded = deps.log.bodyOf(req.transmission_id);
  if (recorded !== undefined && sameJson(recorded, req.webhook_event)) candidates.unshift(recorded);

  const signature = Buffer.from(req.transmission_sig, 'base64');
  const ok = candidates.some((body) =>
    verify(
      'sha256',
      Buffer.from(
        paypalSignedString({
          transmissionId: req.transmission_id,
          transmissionTime: req.transmission_time,
          webhookId: req.webhook_id,
          body,
        }),
      ),
      x509.publicKey,
      signature,
    ),
  );
  return ok ? 'SUCCESS' : 'FAILURE';
}

function sameJson(raw: string, value: unknown): boolean {
  try {
    return JSON.stringify(JSON.parse(raw)) === JSON.stringify(value);
  } catch {
    return false;
  }
}
