import type { TetherClient } from '../../../packages/client/src/index.ts';
import type { Output } from './output.ts';
import type { Target } from './target.ts';

/** One operator command (`tether connections list`): its words, help, options and action. */
export interface OperatorCommand {
  /** The words that name it, e.g. ['connections', 'list']. */
  words: readonly string[];
  summary: string;
  /** Positional arguments, all required, in order. */
  args?: readonly string[];
  options?: Record<string, { type: 'string' | 'boolean'; description: string }>;
  run(context: CommandContext): Promise<number>;
}

export interface CommandContext {
  client: TetherClient;
  target: Target;
  out: Output;
  args: Record<string, string>;
  flags: Record<string, string | boolean | undefined>;
  /** Whether stdout is a terminal (progress bars) . */
  interactive: boolean;
}

/** Common to every operator command. */
export const COMMON_OPTIONS = {
  url: {
    type: 'string',
    description: 'tether to talk to (TETHER_URL; default http://127.0.0.1:$PORT or :3000)',
  },
  'api-key': {
    type: 'string',
    description: 'the API key (TETHER_API_KEY; default: the one in .tether/secrets.json)',
  },
  json: { type: 'boolean', description: 'print JSON for scripts instead of tables' },
  help: { type: 'boolean', description: 'show this command’s help' },
} as const;

export const limitOption = {
  limit: { type: 'string', description: 'how many to show (default 50)' },
} as const;

/** A whole number from a flag, or the default; a bad one is a usage error. */
export function numberFlag(value: string | boolean | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name} must be a whole number above 0`);
  return n;
}

/** The first `limit` items of a paginated list. */
export async function take<T>(items: AsyncIterable<T>, limit: number): Promise<T[]> {
  const out: T[] = [];
  if (limit <= 0) return out;
  for await (const item of items) {
    out.push(item);
    if (out.length >= limit) break;
  }
  return out;
}
