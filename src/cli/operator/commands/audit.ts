import type { AuditEntry } from '../../../../packages/client/src/index.ts';
import { limitOption, numberFlag, type OperatorCommand, take } from '../command.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const line = (e: AuditEntry) =>
  `${e.occurredAt}  ${e.actor.padEnd(9)} ${e.action}${e.subjectId ? `  ${e.subjectType ?? ''} ${e.subjectId}` : ''}`;

export const auditCommands: OperatorCommand[] = [
  {
    words: ['audit', 'tail'],
    summary: 'the latest audit entries, oldest of them first; --follow prints new ones as they come',
    options: {
      follow: { type: 'boolean', description: 'keep printing new entries (Ctrl-C to stop)' },
      action: { type: 'string', description: 'only this action, e.g. connection.refreshed' },
      ...limitOption,
    },
    async run({ client, out, flags }) {
      const action = flags.action as string | undefined;
      const latest = await take(client.audit({ action }), numberFlag(flags.limit, 20, 'limit'));
      const print = (e: AuditEntry) => (out.json ? out.line(JSON.stringify(e)) : out.line(line(e)));
      latest.reverse().forEach(print);
      if (!flags.follow) return 0;
      // Ids grow with time: poll the newest page and print what is newer than the last printed.
      let lastId = latest.at(-1)?.id ?? '0';
      for (;;) {
        await sleep(1000);
        const fresh: AuditEntry[] = [];
        for await (const e of client.audit({ action, limit: 100 })) {
          if (BigInt(e.id) <= BigInt(lastId)) break;
          fresh.push(e);
        }
        fresh.reverse().forEach(print);
        lastId = fresh.at(-1)?.id ?? lastId;
      }
    },
  },
];
