import type { EventSubscription } from '../../../../packages/client/src/index.ts';
import { limitOption, numberFlag, type OperatorCommand, take } from '../command.ts';

const columns = [
  { header: 'id', value: (s: EventSubscription) => s.id },
  { header: 'url', value: (s: EventSubscription) => s.url },
  { header: 'events', value: (s: EventSubscription) => s.events.join(',') },
  { header: 'enabled', value: (s: EventSubscription) => s.enabled },
  { header: 'disabled why', value: (s: EventSubscription) => s.disabledReason },
  { header: 'last success', value: (s: EventSubscription) => s.lastSuccessAt },
];

export const subscriptionCommands: OperatorCommand[] = [
  {
    words: ['subscriptions', 'list'],
    summary: 'event subscriptions (secrets are never listed)',
    options: { ...limitOption },
    async run({ client, out, flags }) {
      out.table(await take(client.eventSubscriptions.list(), numberFlag(flags.limit, 50, 'limit')), columns);
      return 0;
    },
  },
  {
    words: ['subscriptions', 'add'],
    summary: 'subscribe an endpoint to events; prints its whsec_ secret once',
    options: {
      endpoint: { type: 'string', description: 'the URL tether POSTs signed events to (required)' },
      events: { type: 'string', description: 'comma-separated event types, or * for all (default *)' },
      description: { type: 'string', description: 'a note for people' },
    },
    async run({ client, out, flags }) {
      // --endpoint, not --url: --url names tether itself, as on every command.
      const endpoint = flags.endpoint;
      if (typeof endpoint !== 'string') throw new Error('--endpoint <url> is required');
      const events = typeof flags.events === 'string' ? flags.events.split(',').map((e) => e.trim()) : ['*'];
      const created = await client.eventSubscriptions.create({
        url: endpoint,
        events: events as never,
        ...(typeof flags.description === 'string' ? { description: flags.description } : {}),
      });
      out.record(created, [
        ['id', created.id],
        ['url', created.url],
        ['events', created.events.join(',')],
        ['secret', created.secret],
      ]);
      return 0;
    },
  },
  {
    words: ['subscriptions', 'remove'],
    summary: 'delete an event subscription',
    args: ['id'],
    async run({ client, out, args }) {
      await client.eventSubscriptions.remove(args.id!);
      out.json ? out.record({ removed: args.id }) : out.line(`removed ${args.id}`);
      return 0;
    },
  },
];
