import type { SyncItem } from '../syncs/definition.ts';

/**
 * Watermark paging (Xero, DocuSign) asks again from the newest time on the page just read, so the
 * tail of that page comes back at the head of the next one. This drops the items that come back
 * exactly as they were on the previous page, so that a record is counted once per run (a
 * malformed one would otherwise fail twice). It remembers one page only: memory stays flat.
 */
export function makeOverlapFilter(): (items: SyncItem[]) => SyncItem[] {
  let previous = new Map<string, string>();
  return (items) => {
    const seen = new Map<string, string>();
    const kept = items.filter((item) => {
      const key = `${item.model}/${item.id}`;
      const body = JSON.stringify(item.kind === 'record' ? item.raw : item);
      seen.set(key, body);
      return previous.get(key) !== body;
    });
    previous = seen;
    return kept;
  };
}
