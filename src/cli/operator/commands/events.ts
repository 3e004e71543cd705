import type { InboxEvent } from '../../../../packages/client/src/index.ts';
import { limitOption, numberFlag, type OperatorCommand, take } from '../command.ts';

const columns = [
  { header: 'id', value: (e: InboxEvent) => e.id },
  { header: 'status', value: (e: InboxEvent) => e.status },
  { header: 'source', value: (e: InboxEvent) => e.source },
  { header: 'type', value: (e: InboxEvent) => e.type },
  { header: 'attempts', value: (e: InboxEvent) => e.attempts },
  { header: 'received', value: (e: InboxEvent) => e.receivedAt },
  { header: 'error', value: (e: InboxEvent) => e.lastError },
];

export const eventCommands: OperatorCommand[] = [
  {
    words: ['events', 'list'],
    summary: 'the inbound webhook inbox, newest first',
    options: {
      status: { type: 'string', description: 'pending | processing | processed | failed | dead' },
      integration: { type: 'string', description: 'only this integration' },
      type: { type: 'string', description: 'only this event type' },
      ...limitOption,
    },
    async run({ client, out, flags }) {
      const query = {
        status: flags.status as InboxEvent['status'] | undefined,
        integration: flags.integration as string | undefined,
        type: flags.type as string | undefined,
      };
      out.table(await take(client.events.list(query), numberFlag(flags.limit, 50, 'limit')), columns);
      return 0;
    },
  },
  {
    words: ['events', 'show'],
    summary: 'one inbound event with its payload',
    args: ['id'],
    async run({ client, out, args }) {
      out.record(await client.events.get(args.id!));
      return 0;
    },
  },
  {
    words: ['events', 'replay'],
    summary: 'run an inbound event through processing again',
    args: ['id'],
    async run({ client, out, args }) {
      const e = await client.events.replay(args.id!);
      out.record(e, [
        ['id', e.id],
        ['status', e.status],
      ]);
      return 0;
    },
  },
];
