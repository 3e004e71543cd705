import { parseArgs } from 'node:util';
import { TetherError } from '../../../packages/client/src/index.ts';
import { COMMON_OPTIONS, type CommandContext, type OperatorCommand } from './command.ts';
import { auditCommands } from './commands/audit.ts';
import { connectCommands } from './commands/connect.ts';
import { connectionCommands } from './commands/connections.ts';
import { eventCommands } from './commands/events.ts';
import { integrationCommands } from './commands/integrations.ts';
import { subscriptionCommands } from './commands/subscriptions.ts';
import { syncCommands } from './commands/syncs.ts';
import { makeOutput } from './output.ts';
import { clientFor, resolveTarget, UsageError } from './target.ts';

/**
 * The commands that talk to a running tether over HTTP, through the typed client. Each file in
 * commands/ is one family; adding a command is adding it to its family's list.
 */
export const OPERATOR_COMMANDS: readonly OperatorCommand[] = [
  ...integrationCommands,
  ...connectionCommands,
  ...connectCommands,
  ...eventCommands,
  ...syncCommands,
  ...subscriptionCommands,
  ...auditCommands,
];

const FAMILIES = new Set(OPERATOR_COMMANDS.map((c) => c.words[0]!));

export function isOperatorCommand(word: string | undefined): boolean {
  return word !== undefined && FAMILIES.has(word);
}

function usageLine(command: OperatorCommand): string {
  const args = (command.args ?? []).map((a) => `<${a}>`).join(' ');
  return `tether ${command.words.join(' ')}${args ? ` ${args}` : ''}`;
}

/** The operator part of `tether --help`. */
export function operatorHelp(): string {
  const width = Math.max(...OPERATOR_COMMANDS.map((c) => usageLine(c).length - 'tether '.length));
  return OPERATOR_COMMANDS.map(
    (c) => `  ${usageLine(c).slice('tether '.length).padEnd(width)}  ${c.summary}`,
  ).join('\n');
}

function commandHelp(command: OperatorCommand): string {
  const options = { ...command.options, ...COMMON_OPTIONS };
  const width = Math.max(...Object.keys(options).map((name) => name.length + 2));
  const lines = Object.entries(options).map(
    ([name, o]) =>
      `  ${`--${name}`.padEnd(width)}${o.type === 'string' ? ' <value>' : '        '}  ${o.description}`,
  );
  return `usage: ${usageLine(command)} [options]\n\n${command.summary}\n\noptions:\n${lines.join('\n')}`;
}

function familyHelp(family: string): string {
  const members = OPERATOR_COMMANDS.filter((c) => c.words[0] === family);
  return (
    `usage:\n${members.map((c) => `  ${usageLine(c).padEnd(48)}  ${c.summary}`).join('\n')}\n\n` +
    `Each takes --url, --api-key, --json and --help.`
  );
}

/**
 * Runs `argv` (family, action, arguments, flags). Exit codes: 0 done, 1 tether refused or the
 * request failed (one line on stderr), 2 bad usage.
 */
export async function runOperatorCommand(
  argv: readonly string[],
  interactive = process.stdout.isTTY === true,
): Promise<number> {
  const [family, action] = argv;
  const command = OPERATOR_COMMANDS.find((c) =>
    c.words.length === 1 ? c.words[0] === family : c.words[0] === family && c.words[1] === action,
  );
  if (!command) {
    const wantsHelp = action === undefined || action === '--help' || action === '-h' || action === 'help';
    if (wantsHelp) {
      console.log(familyHelp(family!));
      return action === undefined ? 2 : 0;
    }
    console.error(`tether: unknown command "${family} ${action}"\n\n${familyHelp(family!)}`);
    return 2;
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv.slice(command.words.length),
      options: { ...command.options, ...COMMON_OPTIONS },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    console.error(`tether: ${(error as Error).message}\n\n${commandHelp(command)}`);
    return 2;
  }
  if (parsed.values.help) {
    console.log(commandHelp(command));
    return 0;
  }
  const names = command.args ?? [];
  if (parsed.positionals.length !== names.length) {
    console.error(
      `tether: ${usageLine(command)} takes ${names.length ? names.map((n) => `<${n}>`).join(' ') : 'no arguments'}`,
    );
    return 2;
  }
  const args = Object.fromEntries(names.map((name, i) => [name, parsed.positionals[i]!]));
  try {
    const target = resolveTarget(parsed.values as { url?: string; 'api-key'?: string });
    const out = makeOutput(parsed.values.json === true);
    return await command.run({
      client: clientFor(target),
      target,
      out,
      args,
      flags: parsed.values as CommandContext['flags'],
      interactive,
    });
  } catch (error) {
    if (error instanceof TetherError) {
      console.error(`tether: ${error.code}: ${error.message}`);
      return 1;
    }
    if (error instanceof UsageError) {
      console.error(`tether: ${error.message}`);
      return 2;
    }
    // fetch's network failures are a TypeError whose cause names the socket error.
    if (error instanceof TypeError && error.message === 'fetch failed') {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      console.error(
        `tether: cannot reach tether (${cause?.code ?? cause?.message ?? 'network error'}): is it running? (--url / TETHER_URL)`,
      );
      return 1;
    }
    console.error(`tether: ${(error as Error).message}`);
    return /must be|required/.test((error as Error).message) ? 2 : 1;
  }
}
