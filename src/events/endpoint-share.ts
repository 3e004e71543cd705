/**
 * Each endpoint's share of this process's delivery capacity: at most `limit` attempts in flight to
 * one subscription. A job over the share waits for a slot while the endpoint's attempts are young
 * (a healthy endpoint frees one within milliseconds), but at most `patienceMs`; once the oldest
 * attempt in flight is older than that (the endpoint is slow), the job is put back for later
 * instead. So a slow endpoint holds `limit` workers for its timeout, and no more.
 */
export type ShareSlot = { release: () => void; sending: () => void };
export type ShareAnswer = ShareSlot | 'busy';

export function makeEndpointShare(limit: number, patienceMs: number) {
  const endpoints = new Map<string, { started: Set<number>; waiters: (() => void)[] }>();

  function take(id: string, entry: { started: Set<number>; waiters: (() => void)[] }) {
    let mark = performance.now() + Math.random() / 1e6;
    let released = false;
    entry.started.add(mark);
    return {
      /** The request itself starts now: its age is what says the endpoint is slow (not the database's). */
      sending() {
        if (released) return;
        entry.started.delete(mark);
        mark = performance.now() + Math.random() / 1e6;
        entry.started.add(mark);
      },
      /** Frees the slot (once: a second call does nothing). */
      release() {
        if (released) return;
        released = true;
        entry.started.delete(mark);
        const next = entry.waiters.shift();
        if (next) next();
        else if (entry.started.size === 0) endpoints.delete(id);
      },
    };
  }

  return {
    async acquire(id: string): Promise<ShareAnswer> {
      let entry = endpoints.get(id);
      if (!entry) {
        entry = { started: new Set(), waiters: [] };
        endpoints.set(id, entry);
      }
      if (entry.started.size < limit) return take(id, entry);
      const oldest = Math.min(...entry.started);
      if (performance.now() - oldest > patienceMs) return 'busy';
      const current = entry;
      const got = await new Promise<boolean>((resolve) => {
        const waiter = () => {
          clearTimeout(timer);
          resolve(true);
        };
        const timer = setTimeout(() => {
          current.waiters.splice(current.waiters.indexOf(waiter), 1);
          resolve(false);
        }, patienceMs);
        current.waiters.push(waiter);
      });
      if (!got) return 'busy';
      // A released slot was handed to this waiter: it takes it before anyone else can.
      return take(id, current);
    },
  };
}
