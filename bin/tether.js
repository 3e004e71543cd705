#!/usr/bin/env -S node --optimize-for-size
// The `tether` command. tether is TypeScript run directly by Node's type
// stripping, which needs Node 23.6 or newer (the project pins Node 24).
// --optimize-for-size: V8 collects its old generation before letting it grow to several times the
// live data. A sync writing 10,000 records/s keeps about 50 MB live, and without the flag V8 let
// the heap reach 250-300 MB before collecting it (peak RSS 350-440 MB against 162 MB with it, for
// about the same records/s; npm run bench:syncs).
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 23 || (major === 23 && minor < 6)) {
  console.error(
    `tether: needs Node.js 24 (found ${process.versions.node}); run it through npm (npx tether …) to use the pinned one`,
  );
  process.exit(2);
}
await import('../src/main.ts');
