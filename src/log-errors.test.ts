import { DrizzleQueryError } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { AppError } from './errors.ts';
import { serializeError } from './log-errors.ts';

/** A database error as pg and PGlite raise it: SQLSTATE code, severity, and a detail quoting data. */
function databaseError(message: string, fields: Record<string, unknown>): Error {
  return Object.assign(new Error(message), { severity: 'ERROR', ...fields });
}

describe('serializeError', () => {
  it('logs a failed query as the database error behind it, without its parameters or detail', () => {
    const cause = databaseError('new row violates check constraint "c"', {
      code: '23514',
      table: 'webhook_events',
      constraint: 'c',
      detail: 'Failing row contains (wev_1, {"client_secret": "pi_secret_value"}).',
      where: 'SQL statement',
    });
    const error = new DrizzleQueryError(
      'insert into webhook_events …',
      ['{"client_secret":"pi_secret_value"}'],
      cause,
    );
    const logged = serializeError(error);
    expect(logged).toEqual({
      type: 'DatabaseError',
      message: 'new row violates check constraint "c"',
      code: '23514',
      severity: 'ERROR',
      table: 'webhook_events',
      constraint: 'c',
    });
    expect(JSON.stringify(logged)).not.toContain('pi_secret_value');
  });

  it('keeps an error its code and causes, and redacts its secret-named fields', () => {
    const query = new DrizzleQueryError(
      'select 1',
      ['tok_secret_value'],
      databaseError('gone', { code: '57P01' }),
    );
    const error = Object.assign(
      new AppError('service_unavailable', 'The database is away.', { cause: query }),
      {
        accessToken: 'tok_secret_value',
      },
    );
    const logged = serializeError(error) as Record<string, unknown>;
    expect(logged).toMatchObject({
      type: 'AppError',
      code: 'service_unavailable',
      accessToken: '[redacted]',
      cause: { type: 'DatabaseError', code: '57P01', message: 'gone' },
    });
    expect(JSON.stringify(logged)).not.toContain('tok_secret_value');
  });
});
