// Exact call counts per endpoint key, plus a short log of recent calls. A call is counted when
// the request arrives (before any fault answers it), so "exactly one refresh call" holds even
// when the call was failed, delayed, hung or dropped on purpose.

export interface CallRecord {
  endpoint: string;
  method: string;
  path: string;
  /** Sandbox clock time the request arrived (ms since epoch). */
  at: number;
  /** The status answered; null while pending or when the connection was hung or dropped. */
  status: number | null;
  /** What the sandbox did besides answering normally ('fault:<id>', 'rate-limited', ...). */
  note?: string;
}

export interface CallLog {
  /** Records an arriving call and returns its record (to fill in the status later). */
  record(endpoint: string, method: string, path: string, at: number): CallRecord;
  /** Counts an extra sub-key such as 'xero.token#refresh_token' for a call already recorded. */
  tag(key: string): void;
  count(endpoint: string): number;
  counts(): Record<string, number>;
  recent(limit?: number): CallRecord[];
  reset(): void;
}

const KEEP = 500;

export function makeCallLog(): CallLog {
  const counts = new Map<string, number>();
  let log: CallRecord[] = [];
  const bump = (key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);
  return {
    record(endpoint, method, path, at) {
      bump(endpoint);
      const entry: CallRecord = { endpoint, method, path, at, status: null };
      log.push(entry);
      if (log.length > KEEP) log = log.slice(-KEEP);
      return entry;
    },
    tag: bump,
    count: (endpoint) => counts.get(endpoint) ?? 0,
    counts: () => Object.fromEntries([...counts].sort(([a], [b]) => a.localeCompare(b))),
    recent: (limit = 50) => log.slice(-limit).reverse(),
    reset() {
      counts.clear();
      log = [];
    },
  };
}
