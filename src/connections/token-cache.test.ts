import { describe, expect, it } from 'vitest';
import { makeTokenCache } from './token-cache.ts';

function entry(id: string, integrationKey = 'xero') {
  return { loaded: { id }, accessToken: `at-${id}`, integrationKey };
}

function cacheOf(size: number, maxStalenessMs = 1_000) {
  let now = 0;
  const cache = makeTokenCache<{ id: string }>({ size, maxStalenessMs, clock: () => now });
  cache.setListening(true);
  return { cache, advance: (ms: number) => (now += ms) };
}

describe('the token cache', () => {
  it('serves what was stored and drops the least recently used entry past its size', () => {
    const { cache } = cacheOf(2);
    cache.put('a', entry('a'), cache.epoch());
    cache.put('b', entry('b'), cache.epoch());
    expect(cache.get('a')?.accessToken).toBe('at-a'); // a is now the most recent
    cache.put('c', entry('c'), cache.epoch());
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
    expect(cache.get('c')).toBeDefined();
    expect(cache.size).toBe(2);
  });

  it('stores nothing when its size is 0', () => {
    const { cache } = cacheOf(0);
    expect(cache.enabled).toBe(false);
    cache.put('a', entry('a'), cache.epoch());
    expect(cache.get('a')).toBeUndefined();
  });

  it('never serves an entry older than the staleness bound', () => {
    const { cache, advance } = cacheOf(10, 1_000);
    cache.put('a', entry('a'), cache.epoch());
    advance(1_000);
    expect(cache.get('a')).toBeDefined();
    advance(1);
    expect(cache.get('a')).toBeUndefined();
  });

  it('refuses a row read before a change that was announced while it was being read', () => {
    const { cache } = cacheOf(10);
    const before = cache.epoch();
    cache.invalidate('a'); // the announcement overtook the read
    cache.put('a', entry('a'), before);
    expect(cache.get('a')).toBeUndefined();
    cache.put('a', entry('a'), cache.epoch());
    expect(cache.get('a')).toBeDefined();
  });

  it('drops one connection, every connection of an integration, or everything', () => {
    const { cache } = cacheOf(10);
    for (const [id, key] of [
      ['a', 'xero'],
      ['b', 'xero'],
      ['c', 'google'],
      ['d', 'google'],
    ] as const)
      cache.put(id, entry(id, key), cache.epoch());
    cache.invalidate('c');
    expect(cache.get('c')).toBeUndefined();
    cache.invalidateIntegration('xero');
    expect([cache.get('a'), cache.get('b')]).toEqual([undefined, undefined]);
    expect(cache.get('d')).toBeDefined();
    cache.flush();
    expect(cache.size).toBe(0);
  });

  it('serves and stores nothing while nobody listens for changes, and starts empty again', () => {
    const { cache } = cacheOf(10);
    cache.put('a', entry('a'), cache.epoch());
    const before = cache.epoch();
    cache.setListening(false);
    expect(cache.get('a')).toBeUndefined();
    cache.put('b', entry('b'), cache.epoch());
    expect(cache.size).toBe(0);
    cache.setListening(true);
    cache.put('c', entry('c'), before); // read before the listener came back: may have missed a change
    expect(cache.get('c')).toBeUndefined();
  });
});
