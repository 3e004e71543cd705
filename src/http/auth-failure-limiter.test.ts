import { describe, expect, it } from 'vitest';
import { clientKey, makeAuthFailureLimiter } from './auth-failure-limiter.ts';

describe('the failed-authentication limiter', () => {
  const make = (maxAddresses = 100) => {
    let now = 1_000_000;
    const limiter = makeAuthFailureLimiter({
      maxFailures: 3,
      windowMs: 60_000,
      maxAddresses,
      now: () => now,
    });
    return { limiter, advance: (ms: number) => (now += ms) };
  };

  it('limits an address once it has failed maxFailures times in a window, until the window ends', () => {
    const { limiter, advance } = make();
    for (let i = 0; i < 3; i++) {
      expect(limiter.retryAfterSeconds('198.51.100.1')).toBe(0);
      limiter.recordFailure('198.51.100.1');
    }
    expect(limiter.retryAfterSeconds('198.51.100.1')).toBe(60);
    advance(45_500);
    expect(limiter.retryAfterSeconds('198.51.100.1')).toBe(15);
    expect(limiter.retryAfterSeconds('198.51.100.2')).toBe(0);
    advance(14_500);
    expect(limiter.retryAfterSeconds('198.51.100.1')).toBe(0);
  });

  it('keeps at most maxAddresses entries, dropping ended windows first, then the oldest', () => {
    const { limiter, advance } = make(10);
    for (let i = 0; i < 10; i++) limiter.recordFailure(`10.0.0.${i}`);
    advance(61_000);
    for (let i = 0; i < 3; i++) limiter.recordFailure('10.0.1.1');
    expect(limiter.size()).toBe(1);
    for (let i = 0; i < 1000; i++) limiter.recordFailure(`10.1.${i >> 8}.${i & 255}`);
    expect(limiter.size()).toBe(10);
  });

  it('counts an IPv6 host by its /64 and an IPv4-mapped address as itself', () => {
    expect(clientKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:db8:1:2:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientKey('::1')).toBe('0:0:0:0::/64');
    expect(clientKey('::ffff:192.0.2.1')).toBe('::ffff:192.0.2.1');
    expect(clientKey('192.0.2.1')).toBe('192.0.2.1');
    const { limiter } = make();
    for (let i = 1; i <= 3; i++) limiter.recordFailure(`2001:db8:1:2::${i}`);
    expect(limiter.retryAfterSeconds('2001:db8:1:2::99')).toBeGreaterThan(0);
  });
});
