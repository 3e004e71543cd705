import { type Config, ConfigError, loadConfig } from './config.ts';
import { rotateKeys } from './crypto/rotate-keys.ts';
import { makeSealer } from './crypto/seal.ts';
import { migrate } from './db/migrate.ts';
import { openConfiguredDatabase, resolveSecrets, startTether } from './runtime.ts';

/**
 * The `tether` CLI. Exit codes: 0 done, 1 failed while running, 2 bad
 * configuration or usage (one line on stderr, no stack trace).
 */
const USAGE = `usage: tether <command>

commands:
  serve         start the HTTP API, dashboard, job workers (and the sandbox when on)
  migrate       apply database migrations and exit
  keys rotate   re-seal every stored secret with the first key of TETHER_ENCRYPTION_KEYS
  help          show this text`;

async function main(argv: string[]): Promise<number> {
  const [command, sub] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  const config = loadConfig();
  switch (command) {
    case 'serve':
      return serve(config);
    case 'migrate':
      return runMigrate(config);
    case 'keys':
      if (sub === 'rotate') return runRotate(config);
      console.error(`tether: unknown keys command "${sub ?? ''}"; did you mean "tether keys rotate"?`);
      return 2;
    default:
      console.error(`tether: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

async function serve(config: Config): Promise<number> {
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

async function runMigrate(config: Config): Promise<number> {
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

async function runRotate(config: Config): Promise<number> {
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

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`tether: invalid configuration: ${error.message}`);
    process.exitCode = 2;
  } else {
    console.error(`tether: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}
