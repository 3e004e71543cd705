import { createHash } from 'node:crypto';
import { makeRandom, type Random } from '../webhooks/random.ts';
import { pickLive } from './pick-live.ts';

/**
 * A generated collection with a change feed, for the providers whose APIs page a list and report
 * changes by position (Calendar events, Drive files, YouTube videos). Item `i` is a pure function
 * of (seed, i, its version), so a large collection costs a few numbers; what changes keeps only
 * what changed: each changed index's version and time, the deleted indexes, and a log of changes
 * (one entry per change, positions 1, 2, 3… in order).
 *
 * A feed reader asks for the changes after the position it holds: each changed index once, at its
 * latest change (an index changed twice since shows only its last change).
 */

export interface CollectionSpec {
  accountId: string;
  count: number;
  seed: string;
  malformedEvery?: number;
}

export interface CollectionChanges {
  added: number;
  updated: number;
  deleted: number;
  seed: string;
}

export interface ChangeEntry {
  position: number;
  index: number;
  kind: 'added' | 'updated' | 'deleted';
  at: number;
}

export interface Collection {
  readonly spec: CollectionSpec;
  /** Short hex derived from (seed, account): the collection's ids carry it. */
  readonly prefix: string;
  /** When it was sized (sandbox clock, ms). */
  readonly sizedAt: number;
  /** Indexes handed out so far (sized count plus every added item). */
  size(): number;
  live(): number;
  isLive(index: number): boolean;
  isDeleted(index: number): boolean;
  /** 0 as sized, one more per update. */
  version(index: number): number;
  /** When the index last changed (sandbox clock, ms); undefined while it is as sized. */
  changedAt(index: number): number | undefined;
  isMalformed(index: number): boolean;
  /** The position of the latest change (0: none yet). */
  position(): number;
  /** Each index changed after `position`, once, at its latest change, in position order. */
  changesAfter(position: number, limit: number): ChangeEntry[];
  /** Indexes at or above `from` (ascending) or below `from` (descending), at most `limit`. */
  indexes(from: number, limit: number, options: { descending?: boolean; deleted?: boolean }): number[];
  change(changes: CollectionChanges, now: number): void;
  withMalformedEvery(malformedEvery: number | undefined): void;
}

export function makeCollection(input: CollectionSpec, now: number): Collection {
  const spec = { ...input };
  const prefix = createHash('sha256').update(`${spec.seed}:${spec.accountId}`).digest('hex').slice(0, 6);
  let size = spec.count;
  const versions = new Map<number, number>();
  const changed = new Map<number, { at: number; position: number }>();
  const deleted = new Set<number>();
  const log: ChangeEntry[] = [];

  const isLive = (index: number) => index >= 0 && index < size && !deleted.has(index);
  const record = (index: number, kind: ChangeEntry['kind'], at: number) => {
    const entry = { position: log.length + 1, index, kind, at };
    log.push(entry);
    changed.set(index, { at, position: entry.position });
  };

  return {
    spec,
    prefix,
    sizedAt: now,
    size: () => size,
    live: () => size - deleted.size,
    isLive,
    isDeleted: (index) => deleted.has(index),
    version: (index) => versions.get(index) ?? 0,
    changedAt: (index) => changed.get(index)?.at,
    isMalformed: (index) => spec.malformedEvery !== undefined && (index + 1) % spec.malformedEvery === 0,
    position: () => log.length,
    changesAfter(position, limit) {
      const out: ChangeEntry[] = [];
      for (let at = Math.max(0, position); at < log.length && out.length < limit; at++) {
        const entry = log[at]!;
        if (changed.get(entry.index)?.position === entry.position) out.push(entry);
      }
      return out;
    },
    indexes(from, limit, options) {
      const out: number[] = [];
      const wanted = (index: number) => options.deleted || !deleted.has(index);
      if (options.descending) {
        for (let index = Math.min(from, size) - 1; index >= 0 && out.length < limit; index--)
          if (wanted(index)) out.push(index);
      } else {
        for (let index = Math.max(0, from); index < size && out.length < limit; index++)
          if (wanted(index)) out.push(index);
      }
      return out;
    },
    change(changes, at) {
      const random = makeRandom(`${spec.seed}:changes:${changes.seed}`);
      for (let i = 0; i < changes.added; i++) record(size++, 'added', at);
      const touched = new Set<number>();
      for (let i = 0; i < changes.updated; i++) {
        const index = pickLive(random, size, isLive, touched);
        if (index === undefined) break;
        touched.add(index);
        versions.set(index, (versions.get(index) ?? 0) + 1);
        record(index, 'updated', at);
      }
      for (let i = 0; i < changes.deleted; i++) {
        const index = pickLive(random, size, isLive, touched);
        if (index === undefined) break;
        touched.add(index);
        deleted.add(index);
        record(index, 'deleted', at);
      }
    },
    withMalformedEvery(malformedEvery) {
      spec.malformedEvery = malformedEvery;
    },
  };
}

/** Words the generated records are made of. */
export const WORDS = [
  'quarterly',
  'planning',
  'design',
  'review',
  'budget',
  'launch',
  'standup',
  'retro',
  'offsite',
  'hiring',
  'roadmap',
  'customer',
  'travel',
  'lunch',
  'workshop',
  'report',
  'demo',
  'sync',
];

export function wordsOf(random: Random, count: number): string[] {
  return Array.from({ length: count }, () => WORDS[Math.floor(random.next() * WORDS.length)]!);
}
