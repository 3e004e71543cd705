import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AppError, CONNECT_OUTCOME_CODES, errorStatus, statusOf, webhookRejectCodes } from './errors.ts';
import { RECORD_ERROR_CODES } from './syncs/record-errors.ts';

describe('error codes', () => {
  const doc = readFileSync(join(import.meta.dirname, '../docs/errors.md'), 'utf8');
  // The page's sections: the HTTP codes first, then one `## ` section per other kind of code.
  const [httpSection = ''] = doc.split(/^## /m);
  const documented = new Map(
    [...httpSection.matchAll(/^\| `([a-z_]+)` \| (\d{3}) \|/gm)].map(
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

// The verifiers answer only these (never-throws.test.ts fuzzes them to check), and receive-route.ts
// counts that reason as the metric's `reason` label and as the audit entry's `metadata.reason`.
describe('webhook rejection reasons (metric labels and audit entries)', () => {
  const doc = readFileSync(join(import.meta.dirname, '../docs/errors.md'), 'utf8');
  const rejections = doc.split(/^## /m).find((text) => text.startsWith('Webhook rejection reasons')) ?? '';
  const documented = Object.fromEntries(
    [...rejections.matchAll(/^\| `([a-z_]+)` \| (\d{3}) \| `([a-z_]+)` \|/gm)].map((match) => [
      match[1]!,
      { status: Number(match[2]), answer: match[3]! },
    ]),
  );

  it('are all documented with their status and HTTP answer, and nothing else is', () => {
    const inCode = Object.fromEntries(
      Object.entries(webhookRejectCodes).map(([code, { status, answer }]) => [code, { status, answer }]),
    );
    expect(documented).toEqual(inCode);
  });

  it('answer with an HTTP code of the same status, retryable exactly when the sender should retry', () => {
    for (const [code, { status, retryable, answer }] of Object.entries(webhookRejectCodes)) {
      expect(errorStatus[answer], code).toBe(status);
      expect(statusOf(code as keyof typeof webhookRejectCodes), code).toBe(status);
      expect(retryable, code).toBe(status >= 500);
    }
  });

  it('are distinct from the HTTP codes, so a code names one thing', () => {
    for (const code of Object.keys(webhookRejectCodes)) expect(Object.keys(errorStatus)).not.toContain(code);
  });
});
