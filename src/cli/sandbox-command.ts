import type { Config } from '../config.ts';
import { startStandaloneSandbox } from '../sandbox/standalone.ts';

/** `tether sandbox [--data-dir DIR]`: the provider sandbox alone, until SIGTERM or SIGINT. */
export async function runSandbox(config: Config, args: string[]): Promise<number> {
  if (config.production) {
    console.error('tether: the sandbox is for development only and does not start when NODE_ENV=production');
    return 2;
  }
  let dataDir = config.dataDir;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--data-dir' && args[i + 1]) dataDir = args[++i]!;
    else if (arg.startsWith('--data-dir=') && arg.length > 11) dataDir = arg.slice(11);
    else {
      console.error(
        `tether: unknown option "${arg}" for "tether sandbox" (usage: tether sandbox [--data-dir DIR])`,
      );
      return 2;
    }
  }
  const server = await startStandaloneSandbox({ host: config.host, port: config.port, dataDir });
  console.log(
    `tether: sandbox listening on ${server.origin} (at ${server.url}, state in ${dataDir}); for development only: ` +
      `its control API has no key; webhook secrets at ${server.url}/_control/webhooks/config; ` +
      `point tether at it with TETHER_SANDBOX_URL=${server.url}`,
  );
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      // A second signal means "now".
      process.once(signal, () => process.exit(1));
      server.close().then(resolve, (error) => {
        console.error(`tether: sandbox shutdown failed: ${error instanceof Error ? error.message : error}`);
        resolve();
      });
    };
    process.once('SIGTERM', () => onSignal('SIGTERM'));
    process.once('SIGINT', () => onSignal('SIGINT'));
  });
  return 0;
}
