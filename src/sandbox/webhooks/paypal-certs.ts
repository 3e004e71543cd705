import { generateKeyPair as generateKeyPairCb, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { type NameParts, writeCertificate } from './x509.ts';

// The sandbox's stand-in for PayPal's message-verification certificates: a sandbox CA and
// leaf certificates it issues, each with its own RSA-2048 key unless told to share one.
// Real PayPal serves one leaf (CN messageverificationcerts.[sandbox.]paypal.com) at
// https://api[.sandbox].paypal.com/v1/notifications/certs/CERT-…; tests issue extra leaves
// that an honest verifier must reject (expired, not yet valid, wrong CN, foreign CA).

export const PAYPAL_SANDBOX_CN = 'messageverificationcerts.sandbox.paypal.com';
export const DEFAULT_PAYPAL_CERT = 'CERT-sandbox-default';
const DAY_MS = 86_400_000;
const generateKeyPair = promisify(generateKeyPairCb);
const rsaKeyPair = () => generateKeyPair('rsa', { modulusLength: 2048 });

export interface PaypalCert {
  name: string;
  commonName: string;
  notBefore: Date;
  notAfter: Date;
  /** Leaf then CA, as a chain file is served. */
  pem: string;
  privateKey: KeyObject;
}

export interface IssuePaypalCertOptions {
  name: string;
  commonName?: string;
  notBefore?: Date;
  notAfter?: Date;
  /** Reuse the default certificate's key (a re-issued certificate) instead of a new one. */
  sameKeyAsDefault?: boolean;
  /** Sign with a throwaway CA instead of the sandbox CA. */
  foreignIssuer?: boolean;
}

export interface PaypalCertAuthority {
  caPem: string;
  defaultCert: PaypalCert;
  issue(options: IssuePaypalCertOptions): Promise<PaypalCert>;
  get(name: string): PaypalCert | undefined;
}

interface Ca {
  name: NameParts;
  keys: { publicKey: KeyObject; privateKey: KeyObject };
  pem: string;
}

export async function makePaypalCertAuthority(now: Date = new Date()): Promise<PaypalCertAuthority> {
  const [ca, defaultKeys] = await Promise.all([makeCa('tether sandbox PayPal CA', now), rsaKeyPair()]);
  const certs = new Map<string, PaypalCert>();

  const issue = async (options: IssuePaypalCertOptions): Promise<PaypalCert> => {
    if (!/^[A-Za-z0-9._-]{1,100}$/.test(options.name)) {
      throw new TypeError('"name" must be 1-100 letters, digits, ".", "_" or "-"');
    }
    const keys = options.sameKeyAsDefault ? defaultKeys : await rsaKeyPair();
    const issuer = options.foreignIssuer ? await makeCa('Not PayPal CA', now) : ca;
    const commonName = options.commonName ?? PAYPAL_SANDBOX_CN;
    const notBefore = options.notBefore ?? new Date(now.getTime() - DAY_MS);
    const notAfter = options.notAfter ?? new Date(now.getTime() + 365 * DAY_MS);
    const leaf = writeCertificate({
      subject: { C: 'US', ST: 'California', L: 'San Jose', O: 'PayPal, Inc.', CN: commonName },
      issuer: issuer.name,
      publicKey: keys.publicKey,
      signingKey: issuer.keys.privateKey,
      issuerPublicKey: issuer.keys.publicKey,
      notBefore,
      notAfter,
      ca: false,
    });
    const cert: PaypalCert = {
      name: options.name,
      commonName,
      notBefore,
      notAfter,
      pem: `${leaf}${issuer.pem}`,
      privateKey: keys.privateKey,
    };
    certs.set(cert.name, cert);
    return cert;
  };

  return {
    caPem: ca.pem,
    defaultCert: await issue({ name: DEFAULT_PAYPAL_CERT, sameKeyAsDefault: true }),
    issue,
    get: (name) => certs.get(name),
  };
}

async function makeCa(commonName: string, now: Date): Promise<Ca> {
  const keys = await rsaKeyPair();
  const name: NameParts = { O: 'tether sandbox', CN: commonName };
  const pem = writeCertificate({
    subject: name,
    issuer: name,
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    issuerPublicKey: keys.publicKey,
    notBefore: new Date(now.getTime() - 30 * DAY_MS),
    notAfter: new Date(now.getTime() + 10 * 365 * DAY_MS),
    ca: true,
  });
  return { name, keys, pem };
}
