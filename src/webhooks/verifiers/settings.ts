import { X509Certificate } from 'node:crypto';
import { z } from 'zod';

// What an integration's webhook settings hold, per source. Strict objects: a misspelt key is an
// error, never a silently ignored setting. Secrets (Stripe secrets, DocuSign keys, PayPal client
// secret) arrive here already unsealed by the caller.

const secret = z.string().regex(/^\S+$/, 'must be non-empty, without whitespace');
const seconds = (max: number) => z.int().min(0).max(max);

const origin = z.string().refine((value) => URL.canParse(value) && new URL(value).origin === value, {
  message: 'must be an origin such as http://127.0.0.1:4010 (scheme, host, port; no path)',
});
const hostname = z.string().regex(/^[a-z0-9.-]+$/, 'must be a lowercase host name such as api.paypal.com');
const certificatePem = z.string().refine(
  (pem) => {
    try {
      new X509Certificate(pem);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must be a PEM certificate' },
);
const httpUrl = z.url({ protocol: /^https?$/ });

export const stripeSettings = z.strictObject({
  /** Every active endpoint secret (whsec_…): two during a roll. */
  secrets: z.array(secret).min(1).max(10),
  toleranceSeconds: seconds(3600).optional(),
  futureToleranceSeconds: seconds(3600).optional(),
});

export const paypalSettings = z.strictObject({
  webhookId: z.string().min(1),
  allowedCertHosts: z.array(hostname).min(1).optional(),
  allowedCertOrigins: z.array(origin).optional(),
  certCommonNameSuffix: z
    .string()
    .regex(/^\.[A-Za-z0-9.-]+$/, 'must start with a dot, e.g. .paypal.com')
    .optional(),
  trustedCaPems: z.array(certificatePem).min(1).optional(),
  verifyCertChain: z.boolean().optional(),
  maxAgeSeconds: seconds(86_400).optional(),
  maxFutureSeconds: seconds(3600).optional(),
  /** Verify through PayPal's verify-webhook-signature API instead of offline. */
  online: z
    .strictObject({
      apiBaseUrl: httpUrl,
      clientId: z.string().min(1),
      clientSecret: z.string().min(1),
      timeoutMs: z.int().min(100).max(60_000).optional(),
    })
    .optional(),
});

export const docusignConnectSettings = z.strictObject({
  /** Connect HMAC keys; two during a rotation. */
  keys: z.array(secret).min(1).max(10),
});

export const gmailPubsubSettings = z.strictObject({
  /** Default: the URL the push was addressed to (the subscription's default audience). */
  audience: z.string().min(1).optional(),
  serviceAccount: z.email(),
  endpoints: z.strictObject({ jwksUrl: httpUrl.optional() }).optional(),
  clockToleranceSeconds: seconds(300).optional(),
});

/** One line naming every bad field: `"secrets.0" must be non-empty, without whitespace`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => (issue.path.length ? `"${issue.path.join('.')}" ${issue.message}` : issue.message))
    .join('; ');
}
