import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createSecretKey,
  type KeyObject,
  randomBytes,
} from 'node:crypto';

/**
 * Secrets at rest: AES-256-GCM with a random 96-bit nonce per seal.
 *
 * Sealed form: `tsv1.<keyId>.<nonce>.<ciphertext+tag>` (base64url parts).
 * The key id is derived from the key itself, so TETHER_ENCRYPTION_KEYS can
 * list several keys: the first seals, any listed key opens. The caller's
 * `context` (e.g. "connections.credentials:42") is bound as associated data,
 * so a sealed value copied onto another row does not open there.
 */
const PREFIX = 'tsv1';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export type SealErrorReason = 'malformed' | 'unknown_key' | 'tampered';

export class SealError extends Error {
  readonly reason: SealErrorReason;
  constructor(reason: SealErrorReason, message: string) {
    super(message);
    this.name = 'SealError';
    this.reason = reason;
  }
}

export interface Sealer {
  /** Id of the key new seals use. */
  readonly currentKeyId: string;
  seal(plaintext: string, context: string): string;
  open(sealed: string, context: string): string;
  /** Whether `sealed` was made with the current key (rotation skips those). */
  isCurrent(sealed: string): boolean;
}

export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update('tether-key-id:').update(key).digest('base64url').slice(0, 8);
}

export function makeSealer(keys: readonly Buffer[]): Sealer {
  if (keys.length === 0) throw new Error('makeSealer needs at least one key');
  for (const key of keys) if (key.length !== 32) throw new Error('every encryption key must be 32 bytes');
  // KeyObjects made once: building one per seal/open is measurable on the token hot path.
  const byId = new Map<string, KeyObject>(keys.map((key) => [keyIdOf(key), createSecretKey(key)] as const));
  const currentKeyId = keyIdOf(keys[0]!);
  const currentKey = byId.get(currentKeyId)!;

  return {
    currentKeyId,
    seal(plaintext, context) {
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv('aes-256-gcm', currentKey, nonce);
      cipher.setAAD(Buffer.from(context));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
      return [PREFIX, currentKeyId, nonce.toString('base64url'), body.toString('base64url')].join('.');
    },
    open(sealed, context) {
      const parts = sealed.split('.');
      if (parts.length !== 4 || parts[0] !== PREFIX) {
        throw new SealError('malformed', 'sealed value is malformed or truncated');
      }
      const key = byId.get(parts[1]!);
      if (!key) throw new SealError('unknown_key', `sealed with key ${parts[1]}, which is not configured`);
      const nonce = Buffer.from(parts[2]!, 'base64url');
      const body = Buffer.from(parts[3]!, 'base64url');
      if (nonce.length !== NONCE_BYTES || body.length < TAG_BYTES) {
        throw new SealError('malformed', 'sealed value is malformed or truncated');
      }
      const decipher = createDecipheriv('aes-256-gcm', key, nonce);
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      try {
        return Buffer.concat([
          decipher.update(body.subarray(0, body.length - TAG_BYTES)),
          decipher.final(),
        ]).toString('utf8');
      } catch {
        throw new SealError(
          'tampered',
          'sealed value failed authentication: tampered, truncated or wrong context',
        );
      }
    },
    isCurrent(sealed) {
      return sealed.startsWith(`${PREFIX}.${currentKeyId}.`);
    },
  };
}
