import type { Connection } from '../../../../packages/client/src/index.ts';
import { limitOption, numberFlag, type OperatorCommand, take } from '../command.ts';

const columns = [
  { header: 'id', value: (c: Connection) => c.id },
  { header: 'status', value: (c: Connection) => c.status },
  { header: 'provider', value: (c: Connection) => c.provider },
  { header: 'integration', value: (c: Connection) => c.integration },
  { header: 'end user', value: (c: Connection) => c.endUserId },
  { header: 'expires', value: (c: Connection) => c.expiresAt },
  { header: 'last error', value: (c: Connection) => c.lastError?.code },
];

function details(c: Connection): [string, unknown][] {
  return [
    ['id', c.id],
    ['status', c.status],
    ['provider', c.provider],
    ['integration', c.integration],
    ['end user', c.endUserId],
    ['account', c.providerAccountId],
    ['expires', c.expiresAt],
    ['last refresh', c.lastRefreshAt],
    ['refreshable', c.refreshable],
    ['last error', c.lastError ? `${c.lastError.code}: ${c.lastError.message}` : null],
  ];
}

export const connectionCommands: OperatorCommand[] = [
  {
    words: ['connections', 'list'],
    summary: 'list connections, newest first',
    options: {
      status: {
        type: 'string',
        description: 'connected | degraded | reauthorization_required | disconnected',
      },
      integration: { type: 'string', description: 'only this integration' },
      'end-user': { type: 'string', description: 'only this end user' },
      ...limitOption,
    },
    async run({ client, out, flags }) {
      const query = {
        status: flags.status as Connection['status'] | undefined,
        integration: flags.integration as string | undefined,
        endUserId: flags['end-user'] as string | undefined,
      };
      out.table(await take(client.connections.list(query), numberFlag(flags.limit, 50, 'limit')), columns);
      return 0;
    },
  },
  {
    words: ['connections', 'show'],
    summary: 'one connection (never its credentials)',
    args: ['id'],
    async run({ client, out, args }) {
      const c = await client.connections.get(args.id!);
      out.record(c, details(c));
      return 0;
    },
  },
  {
    words: ['connections', 'refresh'],
    summary: 'refresh a connection’s access token now',
    args: ['id'],
    async run({ client, out, args }) {
      const c = await client.connections.refresh(args.id!);
      out.record(c, details(c));
      return 0;
    },
  },
  {
    words: ['connections', 'disconnect'],
    summary: 'revoke at the provider where possible and wipe the credentials',
    args: ['id'],
    async run({ client, out, args }) {
      const c = await client.connections.disconnect(args.id!);
      out.record(c, details(c as Connection));
      return 0;
    },
  },
];
