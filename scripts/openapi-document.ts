import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.ts';
import { makeLogger } from '../src/logger.ts';
import { startTether } from '../src/runtime.ts';

/**
 * tether's OpenAPI document as the routes declare it, from a throwaway embedded tether (no
 * sandbox, a fixed public URL), so the document does not depend on the machine it is made on.
 */
export async function openApiDocument(): Promise<Record<string, unknown>> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tether-openapi-'));
  const config = loadConfig({
    TETHER_DATA_DIR: dataDir,
    TETHER_SANDBOX: '0',
    TETHER_PUBLIC_URL: 'http://localhost:3000',
    TETHER_API_KEY: `tk_${randomBytes(12).toString('hex')}`,
    TETHER_ENCRYPTION_KEYS: randomBytes(32).toString('base64'),
    TETHER_LOG_LEVEL: 'silent',
  });
  const tether = await startTether(config, { listen: false, logger: makeLogger({ level: 'silent' }) });
  try {
    const answer = await tether.app.inject({ method: 'GET', url: '/openapi.json' });
    return answer.json();
  } finally {
    await tether.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
