import { describe, expect, it } from 'vitest';
import { makeRecordSet, type RecordSet } from './record-set.ts';

// The ordered walks of a record set against the obvious answer: sort every record by time.

function byTime(set: RecordSet): { index: number; at: number }[] {
  return Array.from({ length: set.size() }, (_, index) => ({ index, at: set.state(index).modifiedAt })).sort(
    (a, b) => a.at - b.at,
  );
}

describe('record set', () => {
  const set = makeRecordSet({ accountId: 'a1', count: 500, seed: 's1' });
  const now = Date.UTC(2025, 0, 1);
  set.change({ added: 7, updated: 30, deleted: 20, seed: 'c1' }, now);
  set.change({ added: 3, updated: 10, deleted: 5, seed: 'c2' }, now);

  it('walks modification times forward and back exactly as a sort of all records would', () => {
    const sorted = byTime(set);
    const times = sorted.map((r) => r.at);
    expect(new Set(times).size).toBe(times.length);
    for (const cut of [undefined, times[0]! - 1, times[100]!, times[499]!, times[520]!, times.at(-1)!]) {
      const after = sorted.filter((r) => cut === undefined || r.at > cut).map((r) => r.index);
      expect([...set.modifiedAfter(cut)]).toEqual(after);
      expect(set.countModifiedAfter(cut)).toBe(after.length);
      const before = sorted
        .filter((r) => cut === undefined || r.at < cut)
        .map((r) => r.index)
        .reverse();
      expect([...set.modifiedBefore(cut)]).toEqual(before);
    }
  });

  it('keeps removed records, counts the live ones, and finds records by key', () => {
    expect(set.size()).toBe(510);
    expect(set.live()).toBe(485);
    const removed = Array.from({ length: set.size() }, (_, i) => set.state(i)).filter((r) => r.removed);
    expect(removed).toHaveLength(25);
    expect(set.newest(set.size(), 1000)).toHaveLength(485);
    const record = set.state(123);
    expect(set.indexOf(record.key)).toBe(123);
    expect(set.indexOf('0'.repeat(24))).toBeUndefined();
    // Same (seed, index): same key in another set of the same spec.
    expect(makeRecordSet({ accountId: 'a1', count: 500, seed: 's1' }).state(123).key).toBe(record.key);
  });
});
