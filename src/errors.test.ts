import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AppError, errorStatus } from './errors.ts';
import { RECORD_ERROR_CODES } from './syncs/record-errors.ts';

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

  it('of failed sync records are all documented in their own table, and nothing else is', () => {
    const section = doc.split(/^## /m).find((part) => part.startsWith('Per-record error codes'));
    expect(section, 'docs/errors.md has a "Per-record error codes" section').toBeDefined();
    const codes = [...section!.matchAll(/^\| `([a-z_]+)` \|/gm)].map((match) => match[1]);
    expect(codes.sort()).toEqual([...RECORD_ERROR_CODES].sort());
  });

  it('take their status from the code unless told otherwise', () => {
    expect(new AppError('not_connected', 'x').status).toBe(409);
    expect(new AppError('rate_limited', 'x', { status: 429, retryAfterSeconds: 3 }).retryAfterSeconds).toBe(
      3,
    );
    expect(new AppError('refresh_failed_transient', 'x').retryable).toBe(true);
    expect(new AppError('reauthorization_required', 'x').retryable).toBe(false);
  });
});
