/**
 * What an error code means for the person running tether, in plain words. The API's own message
 * stays beside it: this only says what to do.
 */
const ADVICE: Record<string, string> = {
  reauthorization_required:
    'The account owner must connect again: the provider no longer accepts this grant.',
  invalid_grant:
    'The provider refused the refresh token (revoked, expired or rotated elsewhere). The account owner must connect again.',
  no_refresh_token: 'tether holds no refresh token, so it cannot renew the access token by itself.',
  refresh_failed_transient: 'The provider was unreachable or failing; tether retries by itself.',
  provider_unavailable: 'The provider was unreachable or failing; tether retries by itself.',
  rate_limited: 'The provider asked tether to slow down; it waits and retries.',
  not_connected: 'The connection is disconnected: its credentials were wiped.',
};

export function adviceFor(code: string | undefined | null): string | undefined {
  return code ? ADVICE[code] : undefined;
}
