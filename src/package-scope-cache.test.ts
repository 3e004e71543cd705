import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

// Each child imports tether's heaviest dependencies, recording every resolution (URL and format)
// with a hook of its own that sits in front of the cache when the cache is installed, and prints
// what it saw and the heap in use.
const DEPENDENCIES = [
  'drizzle-orm',
  'drizzle-orm/pg-core',
  'drizzle-orm/node-postgres',
  'drizzle-orm/pglite',
  'pg',
  'pg-boss',
  'fastify',
  'zod',
  'jose',
  'stripe',
];

function importInChild(withCache: boolean) {
  const script = `
    import { registerHooks } from 'node:module';
    ${withCache ? "await import('./src/package-scope-cache.ts');" : ''}
    const seen = {};
    registerHooks({
      resolve(specifier, context, next) {
        const resolved = next(specifier, context);
        seen[(context.parentURL ?? '') + ' ' + specifier] = resolved.url + ' ' + (resolved.format ?? '');
        return resolved;
      },
    });
    const loaded = [];
    for (const name of ${JSON.stringify(DEPENDENCIES)}) loaded.push(Object.keys(await import(name)).length > 0);
    console.log(JSON.stringify({ seen, loaded, heapMb: process.memoryUsage().heapUsed / 2 ** 20 }));
  `;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  expect(child.stderr).toBe('');
  return JSON.parse(child.stdout) as { seen: Record<string, string>; loaded: boolean[]; heapMb: number };
}

describe('the package scope cache (src/package-scope-cache.ts)', () => {
  const plain = importInChild(false);
  const cached = importInChild(true);

  it('resolves every import to the same file, in the same format, as Node does', () => {
    expect(cached.loaded.every(Boolean)).toBe(true);
    expect(Object.keys(plain.seen).length).toBeGreaterThan(400);
    expect(cached.seen).toEqual(plain.seen);
  });

  it("leaves out the loader's garbage: a fraction of the heap after importing the dependencies", () => {
    // Node 24 without the cache: about 150 MB for drizzle's exports map parsed again per module.
    expect(cached.heapMb).toBeLessThan(plain.heapMb / 3);
  });
});
