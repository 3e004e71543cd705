import { describe, expect, it } from 'vitest';
import { getProvider, OAUTH_PROVIDERS, PROVIDERS } from './index.ts';

describe('the provider registry', () => {
  it('has a definition for every provider name, under its own name', () => {
    for (const name of OAUTH_PROVIDERS) expect(getProvider(name).name).toBe(name);
    expect(Object.keys(PROVIDERS).sort()).toEqual([...OAUTH_PROVIDERS].sort());
  });

  it('refuses a name it does not know', () => {
    expect(() => getProvider('myspace')).toThrow(/"provider" must be one of/);
  });
});
