import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeSecretMatcher, safeEqual } from './constant-time.ts';

describe('safeEqual', () => {
  it('agrees with === for any two strings, whatever their lengths', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        expect(safeEqual(a, b)).toBe(a === b);
      }),
    );
  });

  it('compares bytes and does not throw on different lengths', () => {
    expect(safeEqual(Buffer.from('abc'), Buffer.from('abc'))).toBe(true);
    expect(safeEqual(Buffer.from('abc'), Buffer.from('abcd'))).toBe(false);
    expect(safeEqual('', 'x')).toBe(false);
  });
});

describe('makeSecretMatcher', () => {
  it('agrees with === against its secret for any candidate, whatever its length', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (secret, candidate) => {
        const matches = makeSecretMatcher(secret);
        expect(matches(candidate)).toBe(candidate === secret);
        expect(matches(secret)).toBe(true);
      }),
    );
  });

  it('refuses a prefix, an extension and a multi-byte look-alike of the secret', () => {
    const matches = makeSecretMatcher('tk_secret');
    expect(matches('tk_secre')).toBe(false);
    expect(matches('tk_secret ')).toBe(false);
    expect(matches('tk_secrét')).toBe(false);
    expect(matches('')).toBe(false);
  });
});
