/** One page of a tether list: `nextCursor` null at the end (the records API says `hasMore` too). */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
  hasMore?: boolean;
}

/**
 * Every item of a cursor-paginated list, fetching a page at a time as the loop asks for more.
 * The records API keeps a cursor even at the end (to come back for later changes): its
 * `hasMore: false` ends the loop, and `lastCursor` tells where to resume.
 */
export async function* paginate<T>(
  fetchPage: (cursor: string | undefined) => Promise<Page<T>>,
  start?: string,
  onCursor?: (cursor: string) => void,
): AsyncGenerator<T, void, undefined> {
  let cursor = start;
  for (;;) {
    const page = await fetchPage(cursor);
    yield* page.items;
    if (page.nextCursor) onCursor?.(page.nextCursor);
    if (!page.nextCursor || page.hasMore === false || page.items.length === 0) return;
    cursor = page.nextCursor;
  }
}
