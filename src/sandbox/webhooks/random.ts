import { createHash, randomBytes } from 'node:crypto';

// Ids, shuffles and sample values for the webhook senders. With a seed every value is
// reproducible (tests and demos can assert exact ids and orders); without one it comes
// from the operating system.

export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** `length` characters drawn from `alphabet`. */
  chars(length: number, alphabet?: string): string;
  /** `length` decimal digits, no leading zero. */
  digits(length: number): string;
  /** An RFC 4122 version-4 shaped id. */
  uuid(): string;
  /** A shuffled copy (Fisher-Yates). */
  shuffle<T>(items: readonly T[]): T[];
}

export const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const UPPER_ALNUM = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const HEX = '0123456789abcdef';

export function makeRandom(seed?: string | number): Random {
  const next = seed === undefined ? osFloat : sfc32(seedWords(String(seed)));
  const int = (below: number) => Math.floor(next() * below);
  const chars = (length: number, alphabet = BASE62) => {
    let out = '';
    for (let i = 0; i < length; i++) out += alphabet[int(alphabet.length)];
    return out;
  };
  return {
    next,
    chars,
    digits: (length) => String(1 + int(9)) + chars(length - 1, '0123456789'),
    uuid: () => {
      const h = chars(32, HEX);
      const variant = HEX[8 + int(4)];
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20)}`;
    },
    shuffle: (items) => {
      const out = [...items];
      for (let i = out.length - 1; i > 0; i--) {
        const j = int(i + 1);
        [out[i], out[j]] = [out[j]!, out[i]!];
      }
      return out;
    },
  };
}

function osFloat(): number {
  return randomBytes(4).readUInt32BE(0) / 2 ** 32;
}

function seedWords(seed: string): [number, number, number, number] {
  const d = createHash('sha256').update(seed).digest();
  return [d.readUInt32BE(0), d.readUInt32BE(4), d.readUInt32BE(8), d.readUInt32BE(12)];
}

// sfc32: a small, well-distributed 128-bit-state generator; plenty for test data.
function sfc32([a, b, c, d]: [number, number, number, number]): () => number {
  return () => {
    a |= 0;
    b |= 0;
    c |= 0;
    d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 2 ** 32;
  };
}
