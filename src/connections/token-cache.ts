/**
 * Each connection's opened access token, in memory: the hot path of
 * GET /v1/connections/:id/access-token and the proxy's auth, with no
 * database round trip and no unsealing.
 *
 * Bounded and least-recently-used (a Map keeps insertion order: a hit moves
 * the entry to the end, and the first entry is the one to drop). What keeps
 * it coherent with the database:
 *
 * - invalidate(id) / invalidateIntegration(key) / flush(): a change was
 *   announced (connection-changes.ts) or written by this process. Each also
 *   moves the epoch on.
 * - The epoch guards reads racing a change: a caller takes `epoch()` before
 *   reading the row and `put` refuses the row when the epoch has moved since,
 *   because the change's announcement may have arrived before the (older)
 *   row did.
 * - While nobody listens for announcements (not yet started, or the listener
 *   connection dropped) the cache is closed: nothing is served or stored.
 * - An entry older than maxStalenessMs is never served, so a lost
 *   announcement costs at most that long.
 *
 * Whether a token served from here is still fresh enough (the refresh margin)
 * is the caller's check, on the entry's row.
 */
export interface CachedConnection<L> {
  loaded: L;
  /** The opened access token alone: the refresh token and other secrets stay sealed. */
  accessToken: string;
  integrationKey: string;
}

export interface TokenCacheOptions {
  /** Entries held at most; 0 turns the cache off. */
  size: number;
  maxStalenessMs: number;
  /** A monotonic clock in milliseconds. */
  clock?: () => number;
}

export interface TokenCache<L> {
  readonly enabled: boolean;
  get(id: string): CachedConnection<L> | undefined;
  /** Stores `entry` unless a change was seen since `epochBefore` (taken before the row was read). */
  put(id: string, entry: CachedConnection<L>, epochBefore: number): void;
  epoch(): number;
  invalidate(id: string): void;
  invalidateIntegration(key: string): void;
  flush(): void;
  /** Opens (announcements flow) or closes (they may be lost: everything is dropped) the cache. */
  setListening(listening: boolean): void;
  readonly size: number;
}

interface Slot<L> {
  entry: CachedConnection<L>;
  storedAt: number;
}

export function makeTokenCache<L>(options: TokenCacheOptions): TokenCache<L> {
  const clock = options.clock ?? (() => performance.now());
  const slots = new Map<string, Slot<L>>();
  let epoch = 0;
  let listening = false;
  const enabled = options.size > 0;

  function flush(): void {
    slots.clear();
    epoch++;
  }

  return {
    enabled,
    get(id) {
      if (!listening) return undefined;
      const slot = slots.get(id);
      if (!slot) return undefined;
      if (clock() - slot.storedAt > options.maxStalenessMs) {
        slots.delete(id);
        return undefined;
      }
      slots.delete(id);
      slots.set(id, slot);
      return slot.entry;
    },
    put(id, entry, epochBefore) {
      if (!enabled || !listening || epochBefore !== epoch) return;
      slots.delete(id);
      slots.set(id, { entry, storedAt: clock() });
      if (slots.size > options.size) slots.delete(slots.keys().next().value!);
    },
    epoch: () => epoch,
    invalidate(id) {
      slots.delete(id);
      epoch++;
    },
    invalidateIntegration(key) {
      for (const [id, slot] of slots) if (slot.entry.integrationKey === key) slots.delete(id);
      epoch++;
    },
    flush,
    setListening(now) {
      listening = now;
      flush();
    },
    get size() {
      return slots.size;
    },
  };
}
