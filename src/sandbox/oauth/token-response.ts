import type { ProviderReply } from '../http.ts';
import type { TokenFailure, TokenFailureReason } from './token-errors.ts';
import { secondsLeft, type TokenSuccess } from './token-flow.ts';

// The RFC 6749 §5.1 token response and §5.2 error response most providers send, with the
// per-provider touches passed in.

export interface StandardTokenOptions {
  tokenType?: string;
  /** Scope separator in the `scope` field; default ' '. */
  scopeSeparator?: string;
  /** Leave `scope` out. */
  omitScope?: boolean;
  /** Also send `refresh_expires_in` (TikTok). */
  refreshExpiresIn?: boolean;
}

export function standardTokenBody(
  outcome: TokenSuccess,
  options: StandardTokenOptions = {},
): Record<string, unknown> {
  const body: Record<string, unknown> = {
    access_token: outcome.access.value,
    token_type: options.tokenType ?? 'Bearer',
  };
  const expiresIn = secondsLeft(outcome.access.expiresAt, outcome.now);
  if (expiresIn !== undefined) body.expires_in = expiresIn;
  if (outcome.refresh) {
    body.refresh_token = outcome.refresh.value;
    const refreshIn = secondsLeft(outcome.refresh.expiresAt, outcome.now);
    if (options.refreshExpiresIn && refreshIn !== undefined) body.refresh_expires_in = refreshIn;
  }
  if (!options.omitScope) body.scope = outcome.grant.scopes.join(options.scopeSeparator ?? ' ');
  return body;
}

/**
 * `{error, error_description}` with the failure's status. `descriptions` rewords reasons the
 * provider words its own way; `null` there leaves error_description out.
 */
export function oauthErrorReply(
  failure: TokenFailure,
  descriptions: Partial<Record<TokenFailureReason, string | null>> = {},
  extra: Record<string, unknown> = {},
): ProviderReply {
  const description = failure.reason in descriptions ? descriptions[failure.reason] : failure.description;
  const body: Record<string, unknown> = { error: failure.error };
  if (description !== null && description !== undefined) body.error_description = description;
  return { status: failure.status, headers: { 'cache-control': 'no-store' }, body: { ...body, ...extra } };
}
