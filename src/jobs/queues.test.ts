import { describe, expect, it } from 'vitest';
import { processJobEventIds } from './queues.ts';

describe('processJobEventIds', () => {
  it('reads the rows a batch job names', () => {
    expect(processJobEventIds({ eventRowIds: ['wev_a', 'wev_b'] })).toEqual(['wev_a', 'wev_b']);
  });

  it('names nothing for data it does not recognise, rather than throwing', () => {
    for (const data of [
      null,
      undefined,
      'wev_a',
      7,
      {},
      { eventRowIds: 'wev_a' },
      { eventRowId: 7 },
      { eventRowId: 'wev_old' },
    ]) {
      expect(processJobEventIds(data)).toEqual([]);
    }
    expect(processJobEventIds({ eventRowIds: ['wev_a', 7, null] })).toEqual(['wev_a']);
  });
});
