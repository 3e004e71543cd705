import { createHash, type KeyObject, randomBytes, sign } from 'node:crypto';
import {
  bitString,
  boolean,
  explicit,
  integer,
  nullValue,
  octetString,
  oid,
  printableString,
  sequence,
  set,
  time,
  utf8String,
} from './der.ts';

// Minimal X.509 v3 certificate writer (RFC 5280) for the sandbox's PayPal certificates:
// RSA keys, sha256WithRSAEncryption, basicConstraints, keyUsage and key identifiers.
// Written here because @peculiar/x509 needs a global Reflect metadata polyfill
// (tsyringe) that the project does not install; node:crypto parses what this writes.

export interface NameParts {
  CN: string;
  O?: string;
  L?: string;
  ST?: string;
  C?: string;
}

export interface CertificateInput {
  subject: NameParts;
  issuer: NameParts;
  publicKey: KeyObject;
  /** The issuer's private key (the subject's own for a self-signed CA). */
  signingKey: KeyObject;
  issuerPublicKey: KeyObject;
  notBefore: Date;
  notAfter: Date;
  ca: boolean;
}

const SHA256_WITH_RSA = sequence(oid('1.2.840.113549.1.1.11'), nullValue());
const NAME_OIDS: Record<keyof NameParts, string> = {
  C: '2.5.4.6',
  ST: '2.5.4.8',
  L: '2.5.4.7',
  O: '2.5.4.10',
  CN: '2.5.4.3',
};

/** The certificate as PEM. */
export function writeCertificate(input: CertificateInput): string {
  const spki = input.publicKey.export({ type: 'spki', format: 'der' });
  const serial = randomBytes(16);
  serial[0]! &= 0x7f;
  const extensions = [
    extension('2.5.29.19', true, input.ca ? sequence(boolean(true), integer(0)) : sequence()),
    // keyUsage: CA → keyCertSign + cRLSign (bits 5, 6); leaf → digitalSignature (bit 0).
    extension(
      '2.5.29.15',
      true,
      input.ca ? bitString(Buffer.from([0x06]), 1) : bitString(Buffer.from([0x80]), 7),
    ),
    extension('2.5.29.14', false, octetString(keyId(input.publicKey))),
    extension(
      '2.5.29.35',
      false,
      sequence(Buffer.concat([Buffer.from([0x80, 20]), keyId(input.issuerPublicKey)])),
    ),
  ];
  const tbs = sequence(
    explicit(0, integer(2)),
    integer(serial),
    SHA256_WITH_RSA,
    name(input.issuer),
    sequence(time(input.notBefore), time(input.notAfter)),
    name(input.subject),
    spki,
    explicit(3, sequence(...extensions)),
  );
  const signature = sign('sha256', tbs, input.signingKey);
  const der = sequence(tbs, SHA256_WITH_RSA, bitString(signature));
  const lines = der
    .toString('base64')
    .match(/.{1,64}/g)!
    .join('\n');
  return `-----BEGIN CERTIFICATE-----\n${lines}\n-----END CERTIFICATE-----\n`;
}

function name(parts: NameParts): Buffer {
  const order: (keyof NameParts)[] = ['C', 'ST', 'L', 'O', 'CN'];
  const rdns = order
    .filter((k) => parts[k] !== undefined)
    .map((k) =>
      set(sequence(oid(NAME_OIDS[k]), k === 'C' ? printableString(parts[k]!) : utf8String(parts[k]!))),
    );
  return sequence(...rdns);
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return sequence(oid(id), ...(critical ? [boolean(true)] : []), octetString(value));
}

/** RFC 5280 method 1: SHA-1 of the subjectPublicKey bits. */
function keyId(key: KeyObject): Buffer {
  const pkcs1 = key.export({ type: 'pkcs1', format: 'der' });
  return createHash('sha1').update(pkcs1).digest();
}
