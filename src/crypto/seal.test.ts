import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { keyIdOf, makeSealer, SealError } from './seal.ts';

const newKey = () => randomBytes(32);

function reasonOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof SealError) return error.reason;
    throw error;
  }
  throw new Error('expected a SealError');
}

describe('makeSealer', () => {
  it('opens what it sealed, for any text', () => {
    const sealer = makeSealer([newKey()]);
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string(), (plaintext, context) => {
        expect(sealer.open(sealer.seal(plaintext, context), context)).toBe(plaintext);
      }),
    );
  });

  it('uses a new nonce for every seal and carries the key id', () => {
    const key = newKey();
    const sealer = makeSealer([key]);
    const a = sealer.seal('same', 'ctx');
    const b = sealer.seal('same', 'ctx');
    expect(a).not.toBe(b);
    expect(a.split('.')[1]).toBe(keyIdOf(key));
    expect(a).not.toContain('same');
  });

  it('detects any changed character as tampering', () => {
    const sealer = makeSealer([newKey()]);
    const sealed = sealer.seal('refresh-token-value', 'connections.credentials:1');
    const lastPart = sealed.lastIndexOf('.') + 1;
    for (let i = lastPart; i < sealed.length; i += 3) {
      const flipped = sealed.slice(0, i) + (sealed[i] === 'A' ? 'B' : 'A') + sealed.slice(i + 1);
      expect(() => sealer.open(flipped, 'connections.credentials:1')).toThrow(SealError);
    }
  });

  it('refuses truncated and malformed values', () => {
    const sealer = makeSealer([newKey()]);
    const sealed = sealer.seal('secret', 'ctx');
    expect(reasonOf(() => sealer.open(sealed.slice(0, -4), 'ctx'))).toBe('tampered');
    expect(reasonOf(() => sealer.open(sealed.slice(0, sealed.lastIndexOf('.') + 3), 'ctx'))).toBe(
      'malformed',
    );
    expect(reasonOf(() => sealer.open('plaintext-token', 'ctx'))).toBe('malformed');
    expect(reasonOf(() => sealer.open('', 'ctx'))).toBe('malformed');
  });

  it('refuses a value moved to another row (bound context)', () => {
    const sealer = makeSealer([newKey()]);
    const sealed = sealer.seal('secret', 'connections.credentials:1');
    expect(reasonOf(() => sealer.open(sealed, 'connections.credentials:2'))).toBe('tampered');
  });

  it('refuses a value sealed with a key it does not have', () => {
    const sealed = makeSealer([newKey()]).seal('secret', 'ctx');
    expect(reasonOf(() => makeSealer([newKey()]).open(sealed, 'ctx'))).toBe('unknown_key');
  });

  it('keeps opening old values after a new key is put first, and seals with the new one', () => {
    const oldKey = newKey();
    const newer = newKey();
    const sealedBefore = makeSealer([oldKey]).seal('secret', 'ctx');
    const rotated = makeSealer([newer, oldKey]);
    expect(rotated.open(sealedBefore, 'ctx')).toBe('secret');
    expect(rotated.isCurrent(sealedBefore)).toBe(false);
    const sealedAfter = rotated.seal('secret', 'ctx');
    expect(rotated.isCurrent(sealedAfter)).toBe(true);
    expect(sealedAfter.split('.')[1]).toBe(keyIdOf(newer));
  });

  it('refuses keys that are not 32 bytes', () => {
    expect(() => makeSealer([randomBytes(16)])).toThrow(/32 bytes/);
    expect(() => makeSealer([])).toThrow();
  });
});
