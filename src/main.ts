// The `tether` command's entry. The loader hook goes in before any dependency is imported (see
// package-scope-cache.ts: it keeps about 100 MB of loader garbage out of every process), so the
// command itself is imported only after it.
import './package-scope-cache.ts';

await import('./cli/main.ts');
