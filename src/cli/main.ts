import { tolerateClosedOutput } from '../closed-output.ts';
import { ConfigError, loadConfig } from '../config.ts';
import { isOperatorCommand, operatorHelp, runOperatorCommand } from './operator/index.ts';

/**
 * The `tether` CLI. Exit codes: 0 done, 1 failed while running, 2 bad
 * configuration or usage (one line on stderr, no stack trace).
 */
const USAGE = `usage: tether <command>

commands:
  serve         start the HTTP API, its docs, the job workers (and the sandbox when on)
  migrate       apply database migrations and exit
  sandbox       serve the provider sandbox alone at http://HOST:PORT/sandbox [--data-dir DIR]
  keys rotate   re-seal every stored secret with the first key of TETHER_ENCRYPTION_KEYS
  help          show this text

operator commands (talk to a running tether: --url/TETHER_URL, --api-key/TETHER_API_KEY, --json):
${operatorHelp()}

\`tether <command> --help\` tells more of each.`;

async function main(argv: string[]): Promise<number> {
  const [command, sub, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  if (isOperatorCommand(command)) return runOperatorCommand(argv);
  const config = loadConfig();
  // Loaded after the config check, so a bad variable fails fast.
  const commands = await import('./commands.ts');
  switch (command) {
    case 'serve':
      return commands.serve(config);
    case 'migrate':
      return commands.runMigrate(config);
    case 'sandbox':
      return commands.runSandbox(
        config,
        [sub, ...rest].filter((a) => a !== undefined),
      );
    case 'keys':
      if (sub === 'rotate') return commands.runRotate(config);
      console.error(`tether: unknown keys command "${sub ?? ''}"; did you mean "tether keys rotate"?`);
      return 2;
    default:
      console.error(`tether: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

// A reader that went away (`tether serve | head -1`) must not take the server down.
tolerateClosedOutput(process.stdout);
tolerateClosedOutput(process.stderr);
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
