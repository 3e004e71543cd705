import { describe, expect, it } from 'vitest';
import { classifyAnswer, type FailureContext, readError, readRetryAfter, scrub } from './failure.ts';

// The classification table, on the answer shapes providers really send.

const context: FailureContext = {
  provider: 'Test',
  operation: 'refresh',
  secrets: ['rt_secret_value_123'],
  now: new Date('2030-01-01T00:00:00Z'),
};
const answer = (status: number, json: unknown, headers: Record<string, string> = {}) => ({
  status,
  headers: new Headers(headers),
  json,
});

describe('classifyAnswer', () => {
  it.each([
    ['RFC 6749 invalid_grant', 400, { error: 'invalid_grant' }, 'permanent'],
    ['Google invalid_rapt', 400, { error: 'invalid_grant', error_subtype: 'invalid_rapt' }, 'permanent'],
    ['invalid_client', 401, { error: 'invalid_client' }, 'configuration'],
    ['unauthorized_client', 400, { error: 'unauthorized_client' }, 'configuration'],
    ['Slack bad_client_secret', 200, { ok: false, error: 'bad_client_secret' }, 'configuration'],
    ['Slack invalid_refresh_token', 200, { ok: false, error: 'invalid_refresh_token' }, 'permanent'],
    [
      'Graph code 190',
      400,
      { error: { type: 'OAuthException', code: 190, message: 'expired' } },
      'permanent',
    ],
    ['Graph is_transient', 400, { error: { code: 2, is_transient: true } }, 'transient'],
    ['TikTok OAuth error', 400, { error: 'invalid_grant', error_description: 'x', log_id: 'L' }, 'permanent'],
    [
      'Instagram flat bad app',
      400,
      { error_type: 'OAuthException', code: 400, error_message: 'Invalid platform app' },
      'configuration',
    ],
    ['Notion 529', 529, { object: 'error', code: 'service_overload' }, 'transient'],
    ['an unknown 400 code', 400, { error: 'something_new' }, 'configuration'],
    ['a 502 HTML page', 502, undefined, 'transient'],
    ['a 200 HTML page', 200, undefined, 'configuration'],
  ])('classifies %s', (_name, status, json, kind) => {
    expect(classifyAnswer(answer(status, json), context).kind).toBe(kind);
  });

  it('gives a 429 its Retry-After, in seconds or as a date', () => {
    expect(classifyAnswer(answer(429, {}, { 'retry-after': '30' }), context).retryAfterSeconds).toBe(30);
    const date = 'Tue, 01 Jan 2030 00:01:00 GMT';
    expect(classifyAnswer(answer(429, {}, { 'retry-after': date }), context).retryAfterSeconds).toBe(60);
    expect(readRetryAfter('soon', context.now)).toBeUndefined();
  });

  it('lets the call name codes that mean refused', () => {
    const refused = classifyAnswer(answer(400, { error: { code: 100 } }), {
      ...context,
      refusedCodes: ['100'],
    });
    expect(refused.kind).toBe('refused');
  });

  it('keeps secrets out of the message even when the provider echoes them', () => {
    const error = classifyAnswer(
      answer(400, { error: 'invalid_grant', error_description: 'bad rt_secret_value_123' }),
      context,
    );
    expect(error.message).toBe('Test refresh failed: invalid_grant (HTTP 400): bad [redacted]');
  });
});

describe('readError', () => {
  it('ignores TikTok success envelopes', () => {
    expect(readError({ data: {}, error: { code: 'ok', message: '' } })).toEqual({});
  });

  it('cuts long descriptions', () => {
    expect(scrub('x'.repeat(500), []).length).toBe(200);
  });
});
