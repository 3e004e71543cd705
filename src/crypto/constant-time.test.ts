import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { safeEqual } from './constant-time.ts';

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
