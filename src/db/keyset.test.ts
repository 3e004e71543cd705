import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.ts';
import { decodeCursor, encodeCursor, type Keyset } from './keyset.ts';
import { auditLog, payments } from './schema.ts';

const byTime: Keyset = {
  list: 'payments',
  direction: 'desc',
  keys: [
    { column: payments.createdAt, kind: 'timestamp' },
    { column: payments.id, kind: 'text' },
  ],
};
const byNumber: Keyset = {
  list: 'audit',
  direction: 'desc',
  keys: [{ column: auditLog.id, kind: 'bigint' }],
};

const raw = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return error instanceof AppError ? error.code : 'not an AppError';
  }
}

describe('keyset cursors', () => {
  it('give back the key values they were made from', () => {
    const values = ['2020-01-01T00:00:00.123456Z', 'pay_01'];
    const cursor = encodeCursor(byTime, values);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(byTime, cursor)).toEqual(values);
    expect(decodeCursor(byNumber, encodeCursor(byNumber, ['9223372036854775807']))).toEqual([
      '9223372036854775807',
    ]);
  });

  it('refuse anything that is not a cursor with invalid_cursor', () => {
    for (const cursor of ['', 'not a cursor!', 'bm9wZQ', raw({ a: 1 }), raw('payments'), 'x'.repeat(2000)]) {
      expect(
        codeOf(() => decodeCursor(byTime, cursor)),
        cursor,
      ).toBe('invalid_cursor');
    }
  });

  it('refuse a cursor of another list or of the wrong shape for this one', () => {
    const wrong = [
      encodeCursor(byNumber, ['12']),
      raw(['payments']),
      raw(['payments', '2020-01-01T00:00:00.123456Z']),
      raw(['payments', '2020-01-01T00:00:00.123456Z', 'pay_01', 'extra']),
      raw(['payments', '2020-01-01T00:00:00.123456Z', 7]),
      raw(['payments', '2020-01-01', 'pay_01']),
    ];
    for (const cursor of wrong)
      expect(
        codeOf(() => decodeCursor(byTime, cursor)),
        cursor,
      ).toBe('invalid_cursor');
  });

  it('refuse values the database would fail on instead of comparing', () => {
    const wrong = [
      raw(['payments', '2020-02-30T00:00:00.000000Z', 'pay_01']),
      raw(['payments', '2020-01-01T25:00:00.000000Z', 'pay_01']),
      raw(['payments', '0000-01-01T00:00:00.000000Z', 'pay_01']),
      raw(['payments', '2020-01-01T00:00:00.000000Z', 'pay\u000001']),
      raw(['payments', '2020-01-01T00:00:00.000000Z', 'x'.repeat(600)]),
    ];
    for (const cursor of wrong)
      expect(
        codeOf(() => decodeCursor(byTime, cursor)),
        cursor,
      ).toBe('invalid_cursor');
    for (const id of ['9223372036854775808', '-1', '1.5', '1e3', '']) {
      expect(
        codeOf(() => decodeCursor(byNumber, raw(['audit', id]))),
        id,
      ).toBe('invalid_cursor');
    }
  });
});
