import { writeFileSync } from 'node:fs';
import { clientTypesFrom } from '../packages/client/scripts/types-from-document.ts';
import { openApiDocument } from './openapi-document.ts';

// Regenerates the typed client's inputs from the routes: packages/client/openapi.json and the
// types openapi-typescript makes of it. `src/client-freshness.test.ts` fails when they are stale.
const document = await openApiDocument();
const root = new URL('../packages/client/', import.meta.url);
writeFileSync(new URL('openapi.json', root), `${JSON.stringify(document, null, 2)}\n`);
writeFileSync(new URL('src/api.d.ts', root), await clientTypesFrom(document));
console.log('packages/client: openapi.json and src/api.d.ts regenerated');
