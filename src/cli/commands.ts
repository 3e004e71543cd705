import type { Config } from '../config.ts';
import { rotateKeys } from '../crypto/rotate-keys.ts';
import { makeSealer } from '../crypto/seal.ts';
import { migrate } from '../db/migrate.ts';
import { openConfiguredDatabase, resolveSecrets, startTether } from '../runtime.ts';

export { runSandbox } from './sandbox-command.ts';

/** The CLI's commands; main.ts loads this only after the configuration is valid. */
export async function serve(config: Config): Promise<number> {
  const tether = await startTether(config, {
    onGeneratedSecrets: (news) => {
      if (news.encryptionKey) {
        console.warn(
          `tether: generated an encryption key into ${config.dataDir}/secrets.json (set TETHER_ENCRYPTION_KEYS in production)`,
        );
      }
      if (news.apiKey)
        console.log(`tether: generated API key (stored in ${config.dataDir}/secrets.json): ${news.apiKey}`);
    },
  });
  const database = config.databaseUrl ? 'PostgreSQL' : `embedded PGlite in ${config.dataDir}`;
  if (config.sandbox) {
    console.log(
      `tether: provider sandbox on at ${tether.url}/sandbox, for development only (its control API has no key; ` +
        'webhook secrets at /sandbox/_control/webhooks/config; TETHER_SANDBOX=0 turns it off)',
    );
  }
  if (config.sandboxUrl) {
    console.log(
      `tether: sandbox integrations point at the provider sandbox at ${config.sandboxUrl}, for development only`,
    );
  }
  console.log(`tether: listening on ${tether.url} (${database}); API docs at ${tether.url}/docs`);
  await new Promise<void>((resolve) => {
    const onSignal = (signal: string) => {
      tether.logger.info({ signal }, 'shutting down');
      // A second signal means "now": skip the graceful wait.
      process.once(signal, () => process.exit(1));
      const force = setTimeout(() => process.exit(1), config.shutdownTimeoutMs + 2000);
      force.unref();
      tether.stop().then(resolve, (error) => {
        tether.logger.error({ err: error }, 'shutdown failed');
        resolve();
      });
    };
    process.once('SIGTERM', () => onSignal('SIGTERM'));
    process.once('SIGINT', () => onSignal('SIGINT'));
  });
  return 0;
}

export async function runMigrate(config: Config): Promise<number> {
  const { database, release } = await openConfiguredDatabase(config);
  try {
    const { applied } = await migrate(database);
    console.log(applied.length ? `tether: applied ${applied.join(', ')}` : 'tether: database is up to date');
    return 0;
  } finally {
    await database.close();
    release();
  }
}

export async function runRotate(config: Config): Promise<number> {
  const { keys } = await resolveSecrets(config);
  const { database, release } = await openConfiguredDatabase(config);
  try {
    await migrate(database);
    const report = await rotateKeys(database, makeSealer(keys));
    console.log(`tether: re-sealed ${report.resealed} secret(s) with the current key`);
    return 0;
  } finally {
    await database.close();
    release();
  }
}
