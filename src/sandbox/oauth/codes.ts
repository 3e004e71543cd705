import type { SandboxProvider } from '../settings.ts';
import { randomToken } from '../tokens.ts';
import type { PkceMethod } from './pkce.ts';

// Authorization codes: single use, short-lived, bound to the client, the redirect URI and the
// PKCE challenge of the authorize request that produced them.

export interface AuthorizationCode {
  value: string;
  provider: SandboxProvider;
  clientId: string;
  /** The redirect_uri of the authorize request; the token request must repeat it. */
  redirectUri: string;
  accountId: string;
  scopes: string[];
  codeChallenge: string | null;
  codeChallengeMethod: PkceMethod | null;
  /** Every authorize parameter as sent (access_type, prompt, ...) plus the page's choices. */
  params: Record<string, string>;
  issuedAt: number;
  expiresAt: number;
  usedAt: number | null;
}

export type NewCode = Omit<AuthorizationCode, 'value' | 'issuedAt' | 'expiresAt' | 'usedAt'>;

export interface CodeStore {
  issue(input: NewCode, options: { now: number; ttlSec: number; prefix?: string }): AuthorizationCode;
  get(value: string): AuthorizationCode | undefined;
  clear(): void;
  list(): AuthorizationCode[];
  /** Replaces the codes held. */
  load(codes: AuthorizationCode[]): void;
}

export function makeCodeStore(): CodeStore {
  const codes = new Map<string, AuthorizationCode>();
  return {
    issue(input, { now, ttlSec, prefix = '' }) {
      const code: AuthorizationCode = {
        ...input,
        value: randomToken(prefix, 24),
        issuedAt: now,
        expiresAt: now + ttlSec * 1000,
        usedAt: null,
      };
      codes.set(code.value, code);
      return code;
    },
    get: (value) => codes.get(value),
    clear() {
      codes.clear();
    },
    list: () => [...codes.values()],
    load(list) {
      codes.clear();
      for (const code of list) codes.set(code.value, code);
    },
  };
}
