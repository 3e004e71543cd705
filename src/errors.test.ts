import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AppError, CONNECT_OUTCOME_CODES, errorStatus } from './errors.ts';

describe('error codes', () => {
  const doc = readFileSync(join(import.meta.dirname, '../docs/errors.md'), 'utf8');
  const documented = new Map(
    [...doc.matchAll(/^\| `([a-z_]+)` \| (\d{3}) \|/gm)].map(
      (match) => [match[1]!, Number(match[2])] as const,
    ),
  );

  it('are all documented in docs/errors.md with their status, and nothing else is', () => {
    expect(Object.fromEntries(documented)).toEqual(errorStatus);
  });

  it('take their status from the code unless told otherwise', () => {
    expect(new AppError('not_connected', 'x').status).toBe(409);
    expect(new AppError('rate_limited', 'x', { status: 429, retryAfterSeconds: 3 }).retryAfterSeconds).toBe(
      3,
    );
    expect(new AppError('refresh_failed_transient', 'x').retryable).toBe(true);
    expect(new AppError('reauthorization_required', 'x').retryable).toBe(false);
  });

  it('include the connect outcome codes, apart from the API codes, each with its page status', () => {
    // Their table is "Connect outcome codes" (checked by connections/connect-codes.test.ts).
    for (const code of CONNECT_OUTCOME_CODES) expect(Object.keys(errorStatus)).not.toContain(code);
    expect(new AppError('unknown_session', 'x').status).toBe(404);
    expect(new AppError('session_used', 'x').status).toBe(410);
    expect(new AppError('exchange_failed', 'x').retryable).toBe(true);
    expect(new AppError('access_denied', 'x', { returnTo: 'https://app.example/back' }).returnTo).toBe(
      'https://app.example/back',
    );
  });
});
