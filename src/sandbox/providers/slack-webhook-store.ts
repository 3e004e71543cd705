import { randomBytes } from 'node:crypto';
import { UPPER_ALNUM } from '../webhooks/random.ts';

// Incoming webhooks Slack creates when an app is installed with the `incoming-webhook` scope.
// Each URL is /services/T…/B…/<secret>; its state decides what posting to it answers.

export const SLACK_WEBHOOK_STATES = ['active', 'revoked', 'removed', 'archived'] as const;
export type SlackWebhookState = (typeof SLACK_WEBHOOK_STATES)[number];

export interface SlackWebhook {
  /** The B… id, also the key the control API uses. */
  id: string;
  teamId: string;
  secret: string;
  channelId: string;
  channelName: string;
  grantId: string;
  state: SlackWebhookState;
  /** Messages received while active, newest last. */
  messages: unknown[];
}

export interface SlackWebhookStore {
  create(input: { teamId: string; channelId: string; channelName: string; grantId: string }): SlackWebhook;
  get(id: string): SlackWebhook | undefined;
  list(): SlackWebhook[];
  clear(): void;
  /** Replaces the webhooks held. */
  load(hooks: SlackWebhook[]): void;
}

export function makeSlackWebhookStore(): SlackWebhookStore {
  const hooks = new Map<string, SlackWebhook>();
  return {
    create(input) {
      const id = `B${Array.from(randomBytes(10), (b) => UPPER_ALNUM[b % UPPER_ALNUM.length]).join('')}`;
      const hook: SlackWebhook = {
        ...input,
        id,
        secret: randomBytes(18).toString('base64url'),
        state: 'active',
        messages: [],
      };
      hooks.set(id, hook);
      return hook;
    },
    get: (id) => hooks.get(id),
    list: () => [...hooks.values()],
    clear() {
      hooks.clear();
    },
    load(list) {
      hooks.clear();
      for (const hook of list) hooks.set(hook.id, hook);
    },
  };
}
