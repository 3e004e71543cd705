import { describe, expect, it } from 'vitest';
import { makeRandom } from './random.ts';

describe('makeRandom', () => {
  it('repeats every value for the same seed', () => {
    const draw = (seed: string) => {
      const r = makeRandom(seed);
      return [r.next(), r.chars(10), r.digits(5), r.uuid(), r.shuffle([1, 2, 3, 4, 5])];
    };
    expect(draw('a')).toEqual(draw('a'));
    expect(draw('a')).not.toEqual(draw('b'));
  });

  it('shuffles into a permutation without touching the input', () => {
    const input = Array.from({ length: 20 }, (_, i) => i);
    const out = makeRandom(1).shuffle(input);
    expect(out).not.toEqual(input);
    expect([...out].sort((x, y) => x - y)).toEqual(input);
  });

  it('makes version-4 shaped uuids and digit strings without a leading zero', () => {
    const r = makeRandom();
    for (let i = 0; i < 50; i++) {
      expect(r.uuid()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(r.digits(16)).toMatch(/^[1-9]\d{15}$/);
    }
  });
});
