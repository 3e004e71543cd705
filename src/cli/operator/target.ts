import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTetherClient, type TetherClient } from '../../../packages/client/src/index.ts';

/** Where the operator commands send their requests, and with which key. */
export interface Target {
  url: string;
  apiKey: string;
}

export class UsageError extends Error {}

/**
 * --url, else TETHER_URL, else the local default; --api-key, else TETHER_API_KEY, else the key the
 * embedded default generated into its data dir (so `npx tether connections list` just works
 * beside `npm start`).
 */
export function resolveTarget(flags: { url?: string; 'api-key'?: string }, env = process.env): Target {
  const url = (flags.url ?? env.TETHER_URL ?? `http://127.0.0.1:${env.PORT ?? 3000}`).replace(/\/+$/, '');
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error();
  } catch {
    throw new UsageError(`--url must be an http(s) URL like http://127.0.0.1:3000 (got ${url})`);
  }
  const apiKey = flags['api-key'] ?? env.TETHER_API_KEY ?? keyFromDataDir(env.TETHER_DATA_DIR ?? '.tether');
  if (!apiKey) {
    throw new UsageError(
      'no API key: pass --api-key, set TETHER_API_KEY, or run beside the data dir of `npm start`',
    );
  }
  return { url, apiKey };
}

function keyFromDataDir(dataDir: string): string | undefined {
  try {
    const secrets = JSON.parse(readFileSync(join(dataDir, 'secrets.json'), 'utf8')) as { apiKey?: unknown };
    return typeof secrets.apiKey === 'string' ? secrets.apiKey : undefined;
  } catch {
    return undefined;
  }
}

export function clientFor(target: Target): TetherClient {
  return createTetherClient({ baseUrl: target.url, apiKey: target.apiKey });
}
