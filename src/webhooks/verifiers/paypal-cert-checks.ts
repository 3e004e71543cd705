import { type KeyObject, X509Certificate } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import type { CertChain } from './paypal-certs.ts';
import { type Rejection, reject } from './types.ts';

// What makes a PAYPAL-CERT-URL acceptable before it is fetched, and a certificate acceptable
// before its key verifies anything:
//   URL: https on the default port, host in the allow-list (PayPal's API hosts by default), no
//        credentials; or an exact origin listed in allowedOrigins (the sandbox's http://127.0.0.1:…).
//   certificate, at the verification's `now`: the leaf is within its validity dates, has exactly
//        one subject CN and it ends with the configured suffix (.paypal.com), holds an RSA key;
//        and, unless turned off, the served chain leads to a trust anchor (Node's bundled Mozilla
//        roots by default): each certificate signed by the next, every issuer a CA within its
//        dates, and the last one an anchor or signed by one. No revocation, name-constraint or
//        key-usage checks: the fetch itself is TLS to an allow-listed PayPal host.

export const PAYPAL_CERT_HOSTS = [
  'api.paypal.com',
  'api.sandbox.paypal.com',
  'api-m.paypal.com',
  'api-m.sandbox.paypal.com',
] as const;
export const PAYPAL_CERT_CN_SUFFIX = '.paypal.com';

export interface CertUrlPolicy {
  allowedHosts: readonly string[];
  /** Exact origins (`http://127.0.0.1:4010`) allowed whatever their scheme: tests and the sandbox. */
  allowedOrigins: readonly string[];
}

/** The URL to fetch (fragment dropped: it is the cache key), or why it must not be fetched. */
export function checkCertUrl(raw: string, policy: CertUrlPolicy): { ok: true; url: string } | Rejection {
  if (!URL.canParse(raw)) return reject('cert_url_not_allowed', 'PAYPAL-CERT-URL is not a URL.');
  const url = new URL(raw);
  url.hash = '';
  if (url.username || url.password) {
    return reject('cert_url_not_allowed', 'PAYPAL-CERT-URL must not carry credentials.');
  }
  if (policy.allowedOrigins.some((origin) => sameOrigin(origin, url))) return { ok: true, url: url.href };
  if (url.protocol !== 'https:' || url.port !== '') {
    return reject('cert_url_not_allowed', 'PAYPAL-CERT-URL must be https on the default port.');
  }
  if (!policy.allowedHosts.some((host) => host.toLowerCase() === url.hostname)) {
    return reject(
      'cert_url_not_allowed',
      `PAYPAL-CERT-URL host ${url.hostname} is not an allowed PayPal host.`,
    );
  }
  return { ok: true, url: url.href };
}

function sameOrigin(origin: string, url: URL): boolean {
  return URL.canParse(origin) && new URL(origin).origin === url.origin;
}

export interface CertPolicy {
  commonNameSuffix: string;
  /** null: the chain is not checked. */
  trust: TrustAnchors | null;
}

export interface TrustAnchors {
  certificates: readonly X509Certificate[];
  fingerprints: ReadonlySet<string>;
}

export function makeTrustAnchors(pems: readonly string[]): TrustAnchors {
  const certificates = pems.map((pem) => new X509Certificate(pem));
  return { certificates, fingerprints: new Set(certificates.map((c) => c.fingerprint256)) };
}

let bundledRoots: TrustAnchors | undefined;
/** Node's bundled Mozilla root store, parsed once on first use. */
export function bundledTrustAnchors(): TrustAnchors {
  bundledRoots ??= makeTrustAnchors(rootCertificates);
  return bundledRoots;
}

/** The leaf's public key when the certificate passes every check at `now`. */
export function checkPaypalCert(chain: CertChain, policy: CertPolicy, now: Date): KeyObject | Rejection {
  const leaf = chain[0]!;
  if (now < leaf.validFromDate) return reject('cert_invalid', 'The PayPal certificate is not yet valid.');
  if (now > leaf.validToDate) return reject('cert_invalid', 'The PayPal certificate has expired.');
  const names = commonNames(leaf.subject);
  const suffix = policy.commonNameSuffix.toLowerCase();
  if (names.length !== 1 || !names[0]!.toLowerCase().endsWith(suffix) || names[0]!.length <= suffix.length) {
    return reject(
      'cert_invalid',
      `The PayPal certificate's subject CN does not end with ${policy.commonNameSuffix}.`,
    );
  }
  if (leaf.publicKey.asymmetricKeyType !== 'rsa') {
    return reject('cert_invalid', 'The PayPal certificate does not hold an RSA key.');
  }
  if (policy.trust) {
    const problem = chainProblem(chain, policy.trust, now);
    if (problem) return reject('cert_invalid', `The PayPal certificate chain ${problem}.`);
  }
  return leaf.publicKey;
}

function commonNames(subject: string): string[] {
  return subject
    .split('\n')
    .filter((line) => line.startsWith('CN='))
    .map((line) => line.slice(3));
}

function chainProblem(chain: CertChain, trust: TrustAnchors, now: Date): string | undefined {
  for (let i = 0; i < chain.length; i++) {
    const cert = chain[i]!;
    if (trust.fingerprints.has(cert.fingerprint256)) return undefined;
    const issuer = chain[i + 1];
    if (!issuer) break;
    if (!issuer.ca) return 'holds an issuer that is not a CA';
    if (!within(issuer, now)) return 'holds an issuer outside its validity dates';
    if (!issuedBy(cert, issuer)) return 'is broken (a certificate is not signed by the next)';
  }
  const top = chain.at(-1)!;
  const anchored = trust.certificates.some(
    (anchor) => anchor.ca && within(anchor, now) && issuedBy(top, anchor),
  );
  return anchored ? undefined : 'does not lead to a trusted CA';
}

function issuedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

function within(cert: X509Certificate, now: Date): boolean {
  return now >= cert.validFromDate && now <= cert.validToDate;
}
