import { readFileSync } from 'node:fs';
import type { Integration } from '../../../../packages/client/src/index.ts';
import { limitOption, numberFlag, type OperatorCommand, take } from '../command.ts';

const columns = [
  { header: 'key', value: (i: Integration) => i.key },
  { header: 'provider', value: (i: Integration) => i.provider },
  { header: 'created', value: (i: Integration) => (i as { createdAt?: string }).createdAt },
];

/** The integration body: --body (JSON, or @file) with --key/--provider/... flags on top. */
function bodyFrom(flags: Record<string, string | boolean | undefined>): Record<string, unknown> {
  const given = typeof flags.body === 'string' ? flags.body : undefined;
  let body: Record<string, unknown> = {};
  if (given) {
    const text = given.startsWith('@') ? readFileSync(given.slice(1), 'utf8') : given;
    try {
      body = JSON.parse(text);
    } catch {
      throw new Error('--body must be JSON (or @file.json)');
    }
  }
  const set = (field: string, flag: string) => {
    if (typeof flags[flag] === 'string') body[field] = flags[flag];
  };
  set('key', 'key');
  set('provider', 'provider');
  set('clientId', 'client-id');
  set('clientSecret', 'client-secret');
  if (typeof flags.scopes === 'string') body.scopes = flags.scopes.split(',').map((s) => s.trim());
  return body;
}

export const integrationCommands: OperatorCommand[] = [
  {
    words: ['integrations', 'list'],
    summary: 'list integrations (secrets are never shown)',
    options: { ...limitOption },
    async run({ client, out, flags }) {
      out.table(await take(client.integrations.list(), numberFlag(flags.limit, 50, 'limit')), columns);
      return 0;
    },
  },
  {
    words: ['integrations', 'show'],
    summary: 'one integration',
    args: ['key'],
    async run({ client, out, args }) {
      out.record(await client.integrations.get(args.key!));
      return 0;
    },
  },
  {
    words: ['integrations', 'add'],
    summary: 'create an integration',
    options: {
      key: { type: 'string', description: 'its key (used in URLs)' },
      provider: { type: 'string', description: 'google, xero, notion, …, stripe, paypal (see the README)' },
      'client-id': { type: 'string', description: 'OAuth client id' },
      'client-secret': { type: 'string', description: 'OAuth client secret (stored sealed, never shown)' },
      scopes: { type: 'string', description: 'comma-separated scopes' },
      body: { type: 'string', description: 'the whole body as JSON, or @file.json (flags override)' },
    },
    async run({ client, out, flags }) {
      const created = await client.integrations.create(bodyFrom(flags) as never);
      out.record(created, [
        ['key', created.key],
        ['provider', created.provider],
      ]);
      return 0;
    },
  },
  {
    words: ['integrations', 'remove'],
    summary: 'delete an integration',
    args: ['key'],
    async run({ client, out, args }) {
      await client.integrations.remove(args.key!);
      out.json ? out.record({ removed: args.key }) : out.line(`removed ${args.key}`);
      return 0;
    },
  },
];
