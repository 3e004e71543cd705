import { createHash } from 'node:crypto';
import { makeRandom } from '../webhooks/random.ts';
import { pickLive } from './pick-live.ts';

/**
 * A provider's collection (Xero invoices, DocuSign envelopes, Notion pages, Instagram media,
 * TikTok videos) generated on demand: record `i` is a pure function of (seed, i, its version),
 * so a million records cost a few numbers. Only what changed is kept: per touched index its
 * version, modification time and whether it was removed; added records are index ranges.
 *
 * Time: the sized records were created EPOCH + i·STEP; every later change takes the next
 * millisecond of a stamp that never goes back (max of the sandbox clock and the last stamp + 1),
 * so modification times are unique and "modified after t" is a clean cut. Each provider renders a
 * record's state in its own shape and decides what "removed" looks like (Xero: DELETED/VOIDED,
 * Notion: archived, Instagram: gone).
 */

const EPOCH_MS = Date.UTC(2024, 0, 1);
const STEP_MS = 37_000;

export interface RecordSetSpec {
  accountId: string;
  count: number;
  seed: string;
  malformedEvery?: number;
}

export interface RecordSetChanges {
  added: number;
  updated: number;
  deleted: number;
  seed: string;
}

export interface RecordState {
  index: number;
  /** Stable id material: a hex string unique to (seed, account, index). */
  key: string;
  createdAt: number;
  modifiedAt: number;
  /** 0 as generated; +1 per update (and per removal). */
  version: number;
  removed: boolean;
  malformed: boolean;
}

interface Touch {
  version: number;
  modifiedAt: number;
  removed: boolean;
}

export interface RecordSet {
  readonly spec: RecordSetSpec;
  /** Indexes handed out so far (sized count plus every added record). */
  size(): number;
  /** Records not removed. */
  live(): number;
  /** The index a key names, if it is one of this set's. */
  indexOf(key: string): number | undefined;
  state(index: number): RecordState;
  /** Indexes by modification time, oldest first, modified strictly after `after` (all when undefined). */
  modifiedAfter(after: number | undefined): Generator<number>;
  /** Indexes by modification time, newest first, modified strictly before `before` (all when undefined). */
  modifiedBefore(before: number | undefined): Generator<number>;
  /** How many records modifiedAfter(after) yields, without walking them. */
  countModifiedAfter(after: number | undefined): number;
  /** Live indexes below `before`, newest created first, at most `limit`. */
  newest(before: number, limit: number): number[];
  change(changes: RecordSetChanges, now: number): void;
  withMalformedEvery(malformedEvery: number | undefined): void;
}

export function makeRecordSet(input: RecordSetSpec): RecordSet {
  const spec = { ...input };
  const prefix = createHash('sha256').update(`${spec.seed}:${spec.accountId}`).digest('hex').slice(0, 12);
  let size = spec.count;
  let removedCount = 0;
  let lastStamp = EPOCH_MS + spec.count * STEP_MS;
  const touched = new Map<number, Touch>();
  /** Added ranges: index `from + j` was created at `at + j`. */
  const added: { from: number; count: number; at: number }[] = [];
  /** Touched indexes sorted by modifiedAt (rebuilt on change; changes are few). */
  let byModified: number[] = [];

  const createdAt = (index: number): number => {
    if (index < spec.count) return EPOCH_MS + index * STEP_MS;
    for (const range of added)
      if (index >= range.from && index < range.from + range.count) return range.at + (index - range.from);
    throw new RangeError(`index ${index} out of range`);
  };
  const modifiedAt = (index: number) => touched.get(index)?.modifiedAt ?? createdAt(index);
  const stamp = (now: number) => {
    lastStamp = Math.max(now, lastStamp + 1);
    return lastStamp;
  };
  /** The first index created strictly after `t` (created times rise with the index). */
  const firstCreatedAfter = (t: number) => {
    let lo = 0;
    let hi = size;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (createdAt(mid) > t) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
  const isLive = (index: number) => index >= 0 && index < size && !touched.get(index)?.removed;

  return {
    spec,
    size: () => size,
    live: () => size - removedCount,
    indexOf(key) {
      if (key.length !== 24 || key.slice(0, 12) !== prefix || !/^[0-9a-f]+$/.test(key)) return undefined;
      const index = Number.parseInt(key.slice(12), 16);
      return index < size ? index : undefined;
    },
    state(index) {
      const touch = touched.get(index);
      const every = spec.malformedEvery;
      return {
        index,
        key: `${prefix}${index.toString(16).padStart(12, '0')}`,
        createdAt: createdAt(index),
        modifiedAt: modifiedAt(index),
        version: touch?.version ?? 0,
        removed: touch?.removed ?? false,
        malformed: every !== undefined && (index + 1) % every === 0,
      };
    },
    *modifiedAfter(after) {
      // Two sorted streams merged: untouched records (by index) and touched ones (by time).
      let plain = after === undefined ? 0 : firstCreatedAfter(after);
      const from = after === undefined ? 0 : upperBound(byModified, after, modifiedAt);
      let t = from;
      for (;;) {
        while (plain < size && touched.has(plain)) plain++;
        const nextPlain = plain < size ? plain : undefined;
        const nextTouched = t < byModified.length ? byModified[t] : undefined;
        if (nextPlain === undefined && nextTouched === undefined) return;
        if (
          nextTouched === undefined ||
          (nextPlain !== undefined && createdAt(nextPlain) < modifiedAt(nextTouched))
        ) {
          yield nextPlain!;
          plain++;
        } else {
          yield nextTouched;
          t++;
        }
      }
    },
    *modifiedBefore(before) {
      let plain = before === undefined ? size - 1 : firstCreatedAfter(before - 1) - 1;
      let t =
        before === undefined ? byModified.length - 1 : upperBound(byModified, before - 1, modifiedAt) - 1;
      for (;;) {
        while (plain >= 0 && touched.has(plain)) plain--;
        const nextPlain = plain >= 0 ? plain : undefined;
        const nextTouched = t >= 0 ? byModified[t] : undefined;
        if (nextPlain === undefined && nextTouched === undefined) return;
        if (
          nextTouched === undefined ||
          (nextPlain !== undefined && createdAt(nextPlain) > modifiedAt(nextTouched))
        ) {
          yield nextPlain!;
          plain--;
        } else {
          yield nextTouched;
          t--;
        }
      }
    },
    countModifiedAfter(after) {
      const first = after === undefined ? 0 : firstCreatedAfter(after);
      let touchedFromFirst = 0;
      for (const index of touched.keys()) if (index >= first) touchedFromFirst++;
      const touchedAfter =
        byModified.length - (after === undefined ? 0 : upperBound(byModified, after, modifiedAt));
      return size - first - touchedFromFirst + touchedAfter;
    },
    newest(before, limit) {
      const out: number[] = [];
      for (let index = Math.min(before, size) - 1; index >= 0 && out.length < limit; index--)
        if (isLive(index)) out.push(index);
      return out;
    },
    change(changes, now) {
      const random = makeRandom(`${spec.seed}:changes:${changes.seed}`);
      if (changes.added > 0) {
        const at = stamp(now);
        added.push({ from: size, count: changes.added, at });
        size += changes.added;
        lastStamp = at + changes.added - 1;
      }
      const taken = new Set<number>();
      const touch = (index: number, removed: boolean) => {
        const before = touched.get(index);
        touched.set(index, { version: (before?.version ?? 0) + 1, modifiedAt: stamp(now), removed });
      };
      for (let i = 0; i < changes.updated; i++) {
        const index = pickLive(random, size, isLive, taken);
        if (index === undefined) break;
        taken.add(index);
        touch(index, false);
      }
      for (let i = 0; i < changes.deleted; i++) {
        const index = pickLive(random, size, isLive, taken);
        if (index === undefined) break;
        taken.add(index);
        touch(index, true);
        removedCount++;
      }
      byModified = [...touched.keys()].sort((a, b) => modifiedAt(a) - modifiedAt(b));
    },
    withMalformedEvery(malformedEvery) {
      spec.malformedEvery = malformedEvery;
    },
  };
}

/** The first position in `sorted` (by time) whose time is strictly after `t`. */
function upperBound(sorted: number[], t: number, timeOf: (index: number) => number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (timeOf(sorted[mid]!) > t) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** A deterministic generator for one record's content at one version. */
export function recordRandom(set: RecordSet, kind: string, index: number, version = 0) {
  return makeRandom(`${set.spec.seed}:${kind}:${index}:${version}`);
}
