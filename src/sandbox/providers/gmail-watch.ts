import type { FastifyInstance } from 'fastify';
import { mailboxOf } from '../datasets/kinds.ts';
import { send } from '../http.ts';
import { endpoint } from '../route-config.ts';
import type { SandboxState } from '../state.ts';
import { googleCaller } from './google-auth.ts';
import { googleError, invalidArgument } from './google-errors.ts';

// Gmail push set-up, under /google: POST /gmail/v1/users/{userId}/watch {topicName, labelIds?,
// labelFilterBehavior?} answers {historyId, expiration}: the mailbox's current history id and the
// watch's end, seven days ahead on the sandbox clock, as Gmail's (a watch must be renewed within
// them, daily by Google's advice). Calling it again renews it. POST …/stop ends it (204). The watch
// is kept per account (gmailWatchOf) for the Pub/Sub sender and tests to read.

export const WATCH_LIFETIME_MS = 7 * 86_400_000;
const TOPIC = /^projects\/[a-z][a-z0-9-]{4,28}[a-z0-9]\/topics\/[A-Za-z][A-Za-z0-9._~%+-]{2,254}$/;

export interface GmailWatch {
  topicName: string;
  labelIds: string[];
  labelFilterBehavior: 'include' | 'exclude';
  historyId: string;
  expiration: number;
  /** Watch calls so far for the account (the first and every renewal). */
  calls: number;
}

export function gmailWatchOf(state: SandboxState, accountId: string): GmailWatch | undefined {
  return state.datasets.get<GmailWatch>('google', 'gmail-watch', accountId);
}

export function registerGmailWatchRoutes(app: FastifyInstance, state: SandboxState): void {
  const caller = (request: Parameters<typeof googleCaller>[1]) => {
    const found = googleCaller(state, request);
    if (!found.ok) return found;
    const { userId } = request.params as { userId: string };
    if (userId !== 'me' && userId !== found.email)
      return {
        ok: false as const,
        reply: googleError(403, `Delegation denied for ${found.email}`, 'forbidden', 'PERMISSION_DENIED'),
      };
    return found;
  };

  app.post('/gmail/v1/users/:userId/watch', endpoint('google.gmail.watch'), async (request, reply) => {
    const who = caller(request);
    if (!who.ok) return send(reply, who.reply);
    const body = (request.body ?? {}) as Record<string, unknown>;
    const topicName = body.topicName;
    if (typeof topicName !== 'string' || topicName === '')
      return send(reply, invalidArgument('Invalid topicName: it is required'));
    if (!TOPIC.test(topicName))
      return send(
        reply,
        invalidArgument('Invalid topicName does not match projects/SOME_PROJECT/topics/SOME_TOPIC'),
      );
    const labelIds = Array.isArray(body.labelIds) ? body.labelIds.filter((l) => typeof l === 'string') : [];
    const behavior = body.labelFilterBehavior ?? body.labelFilterAction ?? 'include';
    if (behavior !== 'include' && behavior !== 'exclude')
      return send(reply, invalidArgument(`Invalid value at 'labelFilterBehavior' (${String(behavior)})`));
    const mailbox = mailboxOf(state, who.accountId);
    const watch: GmailWatch = {
      topicName,
      labelIds,
      labelFilterBehavior: behavior,
      historyId: mailbox ? String(mailbox.historyId()) : '1048576',
      expiration: state.clock.now() + WATCH_LIFETIME_MS,
      calls: (gmailWatchOf(state, who.accountId)?.calls ?? 0) + 1,
    };
    state.datasets.set('google', 'gmail-watch', who.accountId, watch);
    return { historyId: watch.historyId, expiration: String(watch.expiration) };
  });

  app.post('/gmail/v1/users/:userId/stop', endpoint('google.gmail.stop'), async (request, reply) => {
    const who = caller(request);
    if (!who.ok) return send(reply, who.reply);
    state.datasets.set('google', 'gmail-watch', who.accountId, undefined);
    return reply.code(204).send();
  });
}
