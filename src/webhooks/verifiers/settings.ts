import { X509Certificate } from 'node:crypto';
import { z } from 'zod';

// The fields webhook verifiers' settings are made of; each source's definition (sources/) builds
// its strict settings object from them: a misspelt key is an error, never a silently ignored
// setting. Secrets arrive in settings already unsealed by the caller.

export const secret = z.string().regex(/^\S+$/, 'must be non-empty, without whitespace');
export const seconds = (max: number) => z.int().min(0).max(max);

export const origin = z.string().refine((value) => URL.canParse(value) && new URL(value).origin === value, {
  message: 'must be an origin such as http://127.0.0.1:4010 (scheme, host, port; no path)',
});
export const hostname = z
  .string()
  .regex(/^[a-z0-9.-]+$/, 'must be a lowercase host name such as api.paypal.com');
export const certificatePem = z.string().refine(
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
export const httpUrl = z.url({ protocol: /^https?$/ });

/** One line naming every bad field: `"secrets.0" must be non-empty, without whitespace`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => (issue.path.length ? `"${issue.path.join('.')}" ${issue.message}` : issue.message))
    .join('; ');
}
