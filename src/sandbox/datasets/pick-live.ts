import type { Random } from '../webhooks/random.ts';

/**
 * A live record's index in `0..size-1` that `taken` does not hold, for a dataset change to
 * touch: drawn from the seeded generator (so the same seed touches the same records), with a
 * scan from the end once draws keep missing (a dataset with few live records left); `undefined`
 * when there is none.
 */
export function pickLive(
  random: Random,
  size: number,
  isLive: (index: number) => boolean,
  taken: Set<number>,
): number | undefined {
  for (let attempt = 0; attempt < 64; attempt++) {
    const index = Math.floor(random.next() * size);
    if (isLive(index) && !taken.has(index)) return index;
  }
  for (let index = size - 1; index >= 0; index--) if (isLive(index) && !taken.has(index)) return index;
  return undefined;
}
