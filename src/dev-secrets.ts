import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * On the embedded default a fresh checkout must start with no setup, so the
 * API key and encryption key are generated once into the data dir (mode 0600)
 * and reused on every start. Only the embedded default does this: config.ts
 * requires real keys with DATABASE_URL or in production.
 */
export interface DevSecrets {
  apiKey: string;
  encryptionKey: Buffer;
  /** Which of the two were created by this call (to tell the person once). */
  generated: { apiKey: boolean; encryptionKey: boolean };
}

export function loadOrCreateDevSecrets(dataDir: string): DevSecrets {
  const file = join(dataDir, 'secrets.json');
  const stored = existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<Record<string, string>>)
    : {};
  const generated = { apiKey: !stored.apiKey, encryptionKey: !stored.encryptionKey };
  const apiKey = stored.apiKey ?? `tk_${randomBytes(24).toString('base64url')}`;
  const encryptionKey = stored.encryptionKey ?? randomBytes(32).toString('base64');
  if (generated.apiKey || generated.encryptionKey) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, `${JSON.stringify({ apiKey, encryptionKey }, null, 2)}\n`, { mode: 0o600 });
  }
  return { apiKey, encryptionKey: Buffer.from(encryptionKey, 'base64'), generated };
}
