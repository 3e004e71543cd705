import { readFileSync } from 'node:fs';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { SANDBOX_PROVIDER_MODULES } from './providers/index.ts';
import { makeSandboxState } from './state.ts';

describe('README', () => {
  it('lists exactly the endpoint keys the provider routes declare', async () => {
    const app = Fastify();
    const declared = new Set<string>();
    app.addHook('onRoute', (route) => {
      const key = route.config?.endpoint;
      if (key) declared.add(key);
    });
    const state = makeSandboxState();
    for (const module of SANDBOX_PROVIDER_MODULES) {
      await app.register(async (scope) => module.routes(scope, state), { prefix: `/${module.name}` });
    }
    await app.ready();
    await app.close();

    const readme = readFileSync(new URL('./README.md', import.meta.url), 'utf8');
    const documented = new Set([...readme.matchAll(/^\| `([a-z0-9.]+)` +\|/gm)].map((m) => m[1]!));
    expect([...documented].sort()).toEqual([...declared].sort());
  });
});
