import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.ts';
import { checkRedirectUrl, type RedirectPolicy, returnUrl } from './redirect-url.ts';

const refusal = (policy: RedirectPolicy, url: string) => {
  try {
    checkRedirectUrl(policy, url);
  } catch (error) {
    if (error instanceof AppError) return error.code;
    throw error;
  }
  return undefined;
};

describe('checkRedirectUrl', () => {
  const allowed = ['https://app.example.com', 'http://localhost:5173'];

  it('takes any origin when no origins are configured, outside production', () => {
    expect(
      refusal({ allowedOrigins: undefined, production: false }, 'https://anything.example'),
    ).toBeUndefined();
  });

  it('refuses every redirectUrl in production until origins are configured', () => {
    expect(refusal({ allowedOrigins: undefined, production: true }, 'https://app.example.com/x')).toBe(
      'validation_failed',
    );
  });

  it.each([false, true])('takes only the configured origins (production: %s)', (production) => {
    const policy = { allowedOrigins: allowed, production };
    expect(refusal(policy, 'https://app.example.com/connected?x=1')).toBeUndefined();
    expect(refusal(policy, 'http://localhost:5173/')).toBeUndefined();
    for (const url of [
      'https://app.example.com.evil.net/',
      'http://app.example.com/',
      'https://app.example.com:8443/',
      'https://evil.net/?https://app.example.com',
      'https://app.example.com@evil.net/',
    ])
      expect(refusal(policy, url), url).toBe('validation_failed');
  });
});

describe('returnUrl', () => {
  it('adds the outcome and keeps the app’s own parameters and fragment', () => {
    const back = new URL(
      returnUrl('https://app.example.com/back?step=2&status=old#done', {
        status: 'error',
        code: 'access_denied',
      }),
    );
    expect(back.searchParams.get('step')).toBe('2');
    expect(back.searchParams.getAll('status')).toEqual(['error']);
    expect(back.searchParams.get('code')).toBe('access_denied');
    expect(back.hash).toBe('#done');
  });
});
