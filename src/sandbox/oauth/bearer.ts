import type { SandboxProvider } from '../settings.ts';
import type { SandboxState } from '../state.ts';
import type { AccessToken, Grant } from './grants.ts';

// Checks the access token an API call brings. Providers turn a failure into their own 401.

export type BearerFailure = 'missing' | 'unknown' | 'expired' | 'revoked';

export type BearerCheck =
  | { ok: true; token: AccessToken; grant: Grant }
  | { ok: false; failure: BearerFailure; token?: AccessToken };

export function checkAccessToken(
  state: SandboxState,
  provider: SandboxProvider,
  value: string | undefined,
): BearerCheck {
  if (!value) return { ok: false, failure: 'missing' };
  const token = state.grants.access(value);
  const grant = token && state.grants.get(token.grantId);
  if (!token || !grant || grant.provider !== provider) return { ok: false, failure: 'unknown' };
  if (token.revokedAt !== null || grant.revokedAt !== null) return { ok: false, failure: 'revoked', token };
  if (token.expiresAt !== null && state.clock.now() >= token.expiresAt)
    return { ok: false, failure: 'expired', token };
  return { ok: true, token, grant };
}
