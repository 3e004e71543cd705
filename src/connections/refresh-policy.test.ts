import { describe, expect, it } from 'vitest';
import type { ConnectionRow } from '../db/schema.ts';
import type { ProviderDefinition, RefreshPolicy } from '../providers/provider.ts';
import { backoffMs, isFresh, isUsable, wantsRefresh } from './refresh-policy.ts';

const now = new Date('2026-06-01T12:00:00Z');
const minutes = (n: number) => new Date(now.getTime() + n * 60_000);
const row = (fields: Partial<ConnectionRow>) =>
  ({ createdAt: minutes(-60 * 24 * 10), accessTokenIssuedAt: null, ...fields }) as ConnectionRow;
const provider = (refresh: RefreshPolicy) => ({ refresh }) as ProviderDefinition;
const expiry = provider({ strategy: 'expiry', rotates: true });
const longLived = provider({ strategy: 'long-lived', rotates: false, minimumAgeSeconds: 86_400 });

describe('refresh policy', () => {
  it('hands out a token valid for at least the margin, refreshes inside it', () => {
    expect(isFresh(row({ expiresAt: minutes(6) }), {}, now)).toBe(true);
    expect(isFresh(row({ expiresAt: minutes(4) }), {}, now)).toBe(false);
    expect(isFresh(row({ expiresAt: minutes(4) }), { refreshMarginSeconds: 60 }, now)).toBe(true);
    expect(wantsRefresh(expiry, row({ expiresAt: minutes(4) }), {}, now)).toBe(true);
    expect(wantsRefresh(expiry, row({ expiresAt: null }), {}, now)).toBe(false);
  });

  it('never hands out an expired token', () => {
    expect(isUsable(row({ expiresAt: minutes(-1) }), now)).toBe(false);
    expect(isUsable(row({ expiresAt: minutes(2) }), now)).toBe(true);
  });

  it('refreshes a long-lived token only once it is 24 h old, and then inside the window', () => {
    const young = row({ accessTokenIssuedAt: minutes(-60 * 23), expiresAt: minutes(60 * 24 * 3) });
    expect(wantsRefresh(longLived, young, {}, now)).toBe(false);
    const oldInWindow = row({ accessTokenIssuedAt: minutes(-60 * 25), expiresAt: minutes(60 * 24 * 3) });
    expect(wantsRefresh(longLived, oldInWindow, {}, now)).toBe(true);
    const oldOutsideWindow = row({
      accessTokenIssuedAt: minutes(-60 * 25),
      expiresAt: minutes(60 * 24 * 30),
    });
    expect(wantsRefresh(longLived, oldOutsideWindow, {}, now)).toBe(false);
    expect(wantsRefresh(longLived, oldOutsideWindow, { refreshWindowSeconds: 40 * 86_400 }, now)).toBe(true);
  });

  it('never refreshes a token that does not expire', () => {
    expect(
      wantsRefresh(provider({ strategy: 'none', rotates: false }), row({ expiresAt: minutes(1) }), {}, now),
    ).toBe(false);
  });

  it('backs off exponentially with jitter, capped at ten minutes', () => {
    expect(backoffMs(1, () => 0)).toBe(2_500);
    expect(backoffMs(1, () => 1)).toBe(5_000);
    expect(backoffMs(3, () => 1)).toBe(20_000);
    expect(backoffMs(30, () => 1)).toBe(600_000);
  });
});
