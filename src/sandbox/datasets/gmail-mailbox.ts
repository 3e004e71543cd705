import { createHash } from 'node:crypto';
import { makeRandom } from '../webhooks/random.ts';
import { pickLive } from './pick-live.ts';

/**
 * A Gmail mailbox generated on demand: message `i` is a pure function of (seed, i), so a
 * 100,000-message mailbox costs a few numbers, not 100,000 objects. What changes keeps only what
 * changed: the indexes deleted, the indexes updated (with their version) and one compact history
 * batch per change request (a range of added indexes, the updated and the deleted indexes).
 *
 * Indexes grow with time: message i+1 is newer than message i, so "newest first" is descending
 * index. History ids: the sized mailbox's message i has history id BASE + i + 1; each later
 * change takes the next id, adds first, then updates, then deletes.
 */

export const BASE_HISTORY_ID = 1_000_000;
/** Gmail keeps about a week of history; an older startHistoryId answers 404. */
export const HISTORY_RETENTION_MS = 7 * 86_400_000;
const EPOCH_MS = Date.UTC(2024, 0, 1);
const STEP_MS = 37_000;

export interface MailboxSpec {
  accountId: string;
  email: string;
  count: number;
  seed: string;
  malformedEvery?: number;
}

export interface MailboxChanges {
  added: number;
  updated: number;
  deleted: number;
  seed: string;
}

interface HistoryBatch {
  firstId: number;
  at: number;
  addedFrom: number;
  added: number;
  updated: number[];
  deleted: number[];
}

export type HistoryRecord = {
  id: number;
  kind: 'added' | 'updated' | 'deleted';
  index: number;
};

export interface Mailbox {
  readonly spec: MailboxSpec;
  /** Indexes handed out so far (sized count plus every added message). */
  size(): number;
  live(): number;
  historyId(): number;
  /** The oldest startHistoryId history.list still answers for (older: 404). */
  oldestHistoryId(now: number): number;
  indexOf(id: string): number | undefined;
  isLive(index: number): boolean;
  message(index: number): GmailMessage;
  /** A message's ids alone (what list and history answer), without generating the message. */
  ref(index: number): { id: string; threadId: string };
  /** Live indexes below `before`, newest first, at most `limit`. */
  newest(before: number, limit: number): number[];
  /** History records with an id above `after`, oldest first, at most `limit`. */
  historyAfter(after: number, limit: number): HistoryRecord[];
  change(changes: MailboxChanges, now: number): void;
  /** Same mailbox, other malformedEvery (fixing the bad records keeps the history). */
  withMalformedEvery(malformedEvery: number | undefined): void;
}

export interface GmailMessage {
  id: string;
  threadId: string;
  labelIds: string[];
  snippet: string;
  historyId: string;
  internalDate: string;
  sizeEstimate: number;
  subject: string;
  from: string;
  to: string;
  body: string;
  malformed: boolean;
}

export function makeMailbox(input: MailboxSpec, now: number): Mailbox {
  const spec = { ...input };
  const prefix = createHash('sha256').update(`${spec.seed}:${spec.accountId}`).digest('hex').slice(0, 6);
  let size = spec.count;
  let nextHistoryId = BASE_HISTORY_ID + spec.count + 1;
  const sizedAt = now;
  const deleted = new Set<number>();
  const versions = new Map<number, { version: number; historyId: number }>();
  const batches: HistoryBatch[] = [];

  const idOf = (index: number) => `18${prefix}${index.toString(16).padStart(8, '0')}`;
  /** Three messages to a thread. */
  const threadOf = (index: number) => idOf(index - (index % 3));
  const addedHistoryId = (index: number): number => {
    for (const b of batches)
      if (index >= b.addedFrom && index < b.addedFrom + b.added) return b.firstId + (index - b.addedFrom);
    return BASE_HISTORY_ID + index + 1;
  };
  const isLive = (index: number) => index >= 0 && index < size && !deleted.has(index);

  return {
    spec,
    size: () => size,
    live: () => size - deleted.size,
    historyId: () => nextHistoryId - 1,
    oldestHistoryId(at) {
      const cutoff = at - HISTORY_RETENTION_MS;
      if (sizedAt >= cutoff) return BASE_HISTORY_ID;
      const kept = batches.find((b) => b.at >= cutoff);
      return kept ? kept.firstId - 1 : nextHistoryId - 1;
    },
    indexOf(id) {
      if (!/^18[0-9a-f]{14}$/.test(id) || id.slice(2, 8) !== prefix) return undefined;
      const index = Number.parseInt(id.slice(8), 16);
      return index < size ? index : undefined;
    },
    isLive,
    message(index) {
      const random = makeRandom(`${spec.seed}:message:${index}`);
      const version = versions.get(index);
      const unread = random.next() < 0.4;
      const labelIds = ['INBOX', 'CATEGORY_PERSONAL'];
      if (version && version.version % 2 === 1) labelIds.push('STARRED');
      else if (unread) labelIds.push('UNREAD');
      const words = Array.from({ length: 8 }, () => WORDS[Math.floor(random.next() * WORDS.length)]);
      const historyId = version?.historyId ?? addedHistoryId(index);
      const every = spec.malformedEvery;
      return {
        id: idOf(index),
        threadId: threadOf(index),
        labelIds,
        snippet: words.join(' '),
        historyId: String(historyId),
        internalDate: String(EPOCH_MS + index * STEP_MS),
        sizeEstimate: 1200 + Math.floor(random.next() * 40_000),
        subject: `${words[0]} ${words[1]} #${index}`,
        from: `${SENDERS[index % SENDERS.length]}@example.org`,
        to: spec.email,
        body: `${words.join(' ')}.\r\n`,
        malformed: every !== undefined && (index + 1) % every === 0,
      };
    },
    ref: (index) => ({ id: idOf(index), threadId: threadOf(index) }),
    newest(before, limit) {
      const out: number[] = [];
      for (let index = Math.min(before, size) - 1; index >= 0 && out.length < limit; index--)
        if (!deleted.has(index)) out.push(index);
      return out;
    },
    historyAfter(after, limit) {
      const out: HistoryRecord[] = [];
      for (const b of batches) {
        const records: HistoryRecord[] = [];
        let id = b.firstId;
        for (let i = 0; i < b.added; i++) records.push({ id: id++, kind: 'added', index: b.addedFrom + i });
        for (const index of b.updated) records.push({ id: id++, kind: 'updated', index });
        for (const index of b.deleted) records.push({ id: id++, kind: 'deleted', index });
        for (const record of records) {
          if (record.id <= after) continue;
          out.push(record);
          if (out.length >= limit) return out;
        }
      }
      return out;
    },
    change(changes, at) {
      const random = makeRandom(`${spec.seed}:changes:${changes.seed}`);
      const batch: HistoryBatch = {
        firstId: nextHistoryId,
        at,
        addedFrom: size,
        added: changes.added,
        updated: [],
        deleted: [],
      };
      size += changes.added;
      let id = nextHistoryId + changes.added;
      const touched = new Set<number>();
      for (let i = 0; i < changes.updated; i++) {
        const index = pickLive(random, size, isLive, touched);
        if (index === undefined) break;
        touched.add(index);
        batch.updated.push(index);
        versions.set(index, { version: (versions.get(index)?.version ?? 0) + 1, historyId: id++ });
      }
      for (let i = 0; i < changes.deleted; i++) {
        const index = pickLive(random, size, isLive, touched);
        if (index === undefined) break;
        touched.add(index);
        batch.deleted.push(index);
        deleted.add(index);
        id++;
      }
      nextHistoryId = id;
      batches.push(batch);
    },
    withMalformedEvery(malformedEvery) {
      spec.malformedEvery = malformedEvery;
    },
  };
}

const WORDS = [
  'quarterly',
  'invoice',
  'meeting',
  'notes',
  'lunch',
  'project',
  'update',
  'draft',
  'review',
  'budget',
  'travel',
  'agenda',
  'launch',
  'report',
  'photos',
  'weekend',
  'contract',
  'reminder',
];
const SENDERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'];
