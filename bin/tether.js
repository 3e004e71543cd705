#!/usr/bin/env node
// The `tether` command. tether is TypeScript run directly by Node's type
// stripping, which needs Node 23.6 or newer (the project pins Node 24).
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 23 || (major === 23 && minor < 6)) {
  console.error(
    `tether: needs Node.js 24 (found ${process.versions.node}); run it through npm (npx tether …) to use the pinned one`,
  );
  process.exit(2);
}
await import('../src/main.ts');
