import { readFileSync, statSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Why this exists: Node 24's ESM loader looks up the package scope (the nearest package.json) of
 * every module it resolves and loads, and hands it back freshly parsed each time. drizzle-orm's
 * package.json is a 179 KB exports map and its ~450 modules import each other relatively, so
 * loading it leaves ~150 MB of parsed copies in the heap, which V8 keeps as resident memory:
 * importing `drizzle-orm/node-postgres` takes a process from 42 MB to 283 MB RSS, and 58 MB with
 * this hook (Node 24.21; Node 20 and CommonJS `require` don't do it).
 *
 * The hook answers the two frequent cases itself:
 * - a relative import of a file with a `.js`, `.mjs` or `.cjs` extension from a module inside
 *   node_modules: its format comes from the package's declared `type`, read once per directory
 *   (a package that declares none is left to Node, which then looks at the file's syntax);
 * - a bare specifier (`drizzle-orm`, `zod`) imported again from the same directory: Node's answer
 *   for the first import is reused, since a bare specifier resolves the same from every file of a
 *   directory (the node_modules searched and the `imports` map both follow from the directory).
 * Everything else (our own modules, extensionless paths, missing files, failures) goes to Node's
 * resolver unchanged, so errors read as Node's.
 */

/** A package's declared `type`; `null` when it declares none (Node then looks at the syntax). */
type PackageType = 'module' | 'commonjs' | null;
const typeOfDirectory = new Map<string, PackageType>();

/** The `type` of the package that owns `directory`: the nearest package.json's, as Node reads it. */
function packageType(directory: string): PackageType {
  const known = typeOfDirectory.get(directory);
  if (known !== undefined) return known;
  const manifest = readManifest(join(directory, 'package.json'));
  const parent = dirname(directory);
  const type: PackageType = manifest
    ? manifest.type === 'module' || manifest.type === 'commonjs'
      ? manifest.type
      : null
    : parent === directory
      ? null
      : packageType(parent);
  typeOfDirectory.set(directory, type);
  return type;
}

function readManifest(path: string): { type?: unknown } | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as { type?: unknown };
  } catch {
    return null;
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function formatOf(path: string): PackageType {
  const extension = extname(path);
  if (extension === '.mjs') return 'module';
  if (extension === '.cjs') return 'commonjs';
  if (extension === '.js') return packageType(dirname(path));
  return null;
}

const inDependency = (url: string | undefined): url is string =>
  url?.startsWith('file:') === true && url.includes('/node_modules/');

const isBare = (specifier: string) =>
  !specifier.startsWith('.') && !specifier.startsWith('/') && !/^[a-z][a-z0-9+.-]*:/i.test(specifier);

type Resolved = ReturnType<Parameters<typeof registerHooks>[0]['resolve'] & {}>;
const resolvedBare = new Map<string, Resolved>();

// Installed on import, in this thread: import this module before anything imports a dependency
// (`src/main.ts` does; a script can `node --import ./src/package-scope-cache.ts`).
registerHooks({
  resolve(specifier, context, nextResolve) {
    // `require` has its own caches and was never the problem: only `import` is answered here.
    if (!context.conditions.includes('import')) return nextResolve(specifier, context);
    if (inDependency(context.parentURL) && (specifier.startsWith('./') || specifier.startsWith('../'))) {
      const url = new URL(specifier, context.parentURL);
      const path = fileURLToPath(url);
      const format = formatOf(path);
      if (format && isFile(path)) return { url: url.href, format, shortCircuit: true };
    }
    if (context.parentURL?.startsWith('file:') && isBare(specifier)) {
      const key = `${new URL('.', context.parentURL).href}\0${specifier}\0${context.conditions.join(',')}`;
      const known = resolvedBare.get(key);
      if (known) return known;
      const resolved = nextResolve(specifier, context);
      resolvedBare.set(key, { ...resolved, shortCircuit: true });
      return resolved;
    }
    return nextResolve(specifier, context);
  },
  load(url, context, nextLoad) {
    if (context.format == null && context.conditions.includes('import') && inDependency(url)) {
      const format = formatOf(fileURLToPath(url));
      if (format) return nextLoad(url, { ...context, format });
    }
    return nextLoad(url, context);
  },
});
