import { AppError } from '../errors.ts';

/**
 * Where a connect session may send the person back to, and how it tells the app the outcome.
 * With TETHER_ALLOWED_REDIRECT_ORIGINS set, a redirectUrl must be on one of its origins; unset,
 * any http(s) origin is taken, except in production, where an open redirect is never allowed.
 */
export interface RedirectPolicy {
  allowedOrigins: readonly string[] | undefined;
  production: boolean;
}

export function checkRedirectUrl(policy: RedirectPolicy, redirectUrl: string): void {
  const { origin } = new URL(redirectUrl);
  if (policy.allowedOrigins) {
    if (policy.allowedOrigins.includes(origin)) return;
    throw new AppError(
      'validation_failed',
      `Invalid body.redirectUrl: its origin ${origin} is not in TETHER_ALLOWED_REDIRECT_ORIGINS.`,
    );
  }
  if (policy.production)
    throw new AppError(
      'validation_failed',
      'Invalid body.redirectUrl: set TETHER_ALLOWED_REDIRECT_ORIGINS to the origins it may point to (required in production).',
    );
}

export type ConnectOutcome =
  | { status: 'connected'; connectionId: string }
  | { status: 'error'; code: string };

/** The app's redirectUrl with the outcome added; the app's own query parameters are kept. */
export function returnUrl(redirectUrl: string, outcome: ConnectOutcome): string {
  const target = new URL(redirectUrl);
  target.searchParams.set('status', outcome.status);
  if (outcome.status === 'connected') target.searchParams.set('connectionId', outcome.connectionId);
  else target.searchParams.set('code', outcome.code);
  return target.toString();
}
