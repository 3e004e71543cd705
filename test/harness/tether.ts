import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../src/config.ts';
import { makeLogger } from '../../src/logger.ts';
import { type StartOptions, startTether, type Tether } from '../../src/runtime.ts';
import { makeTestDatabase, type TestDatabase } from './database.ts';

/** Captured JSON log lines, so tests can assert on what was (not) logged. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.lines.push(...chunk.toString().split('\n').filter(Boolean));
    done();
  }
  text(): string {
    return this.lines.join('\n');
  }
}

export interface TestTether extends Tether {
  logs: LogCapture;
  testDatabase: TestDatabase;
  /** Headers with the API key. */
  auth: { authorization: string };
  close(): Promise<void>;
}

export interface TestTetherOptions {
  env?: Record<string, string>;
  listen?: boolean;
  publicPlugins?: ((app: FastifyInstance) => Promise<void>)[];
  /** tether's clock (runtime.now()). */
  now?: () => Date;
  /**
   * Whether the sync schedule's cron runs (default off: a connection is due at once, and a run
   * the cron starts in the background would change what a test counts; call syncSchedule.tick()).
   */
  syncScheduleCron?: boolean;
  /** tether's clock and event delivery settings. */
  start?: Pick<StartOptions, 'now' | 'events'>;
}

/**
 * The token cache settings of the test run (`TETHER_TOKEN_CACHE_SIZE=0 npx vitest run …` runs a
 * file with the cache off), for every tether a test starts, in-process or not.
 */
export function cacheSettingsFromEnvironment(): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const name of ['TETHER_TOKEN_CACHE_SIZE', 'TETHER_TOKEN_CACHE_MAX_STALENESS_MS']) {
    const value = process.env[name];
    if (value !== undefined) settings[name] = value;
  }
  return settings;
}

/** A whole tether on a fresh test database, with known keys and captured logs. */
export async function startTestTether(options: TestTetherOptions = {}): Promise<TestTether> {
  const apiKey = `tk_test_${randomBytes(12).toString('hex')}`;
  const config = loadConfig({
    TETHER_API_KEY: apiKey,
    TETHER_ENCRYPTION_KEYS: randomBytes(32).toString('base64'),
    TETHER_SANDBOX: '0',
    PORT: '0',
    TETHER_LOG_LEVEL: 'info',
    TETHER_SHUTDOWN_TIMEOUT_MS: '5000',
    ...cacheSettingsFromEnvironment(),
    ...options.env,
  });
  const logs = new LogCapture();
  const testDatabase = await makeTestDatabase();
  const tether = await startTether(config, {
    database: testDatabase.database,
    logger: makeLogger({ level: config.logLevel, destination: logs }),
    listen: options.listen ?? false,
    jobPollingIntervalSeconds: 0.5,
    publicPlugins: options.publicPlugins,
    now: options.now,
    syncScheduleCron: options.syncScheduleCron ?? false,
    ...options.start,
  });
  return {
    ...tether,
    logs,
    testDatabase,
    auth: { authorization: `Bearer ${apiKey}` },
    async close() {
      await tether.stop();
      await testDatabase.dispose();
    },
  };
}
