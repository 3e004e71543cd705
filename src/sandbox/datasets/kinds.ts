import type { SandboxState } from '../state.ts';
import { googleCollectionKind } from './collection-kind.ts';
import { type Mailbox, makeMailbox } from './gmail-mailbox.ts';
import { RECORD_SET_KINDS } from './record-set-kinds.ts';

/**
 * The datasets the control API can size and change, by `:provider/:model`. Each kind finds the
 * account (id or email) among the provider's seeded accounts and owns its generator.
 */

export interface DatasetSizing {
  account: string;
  count: number;
  seed: string;
  malformedEvery?: number;
}

export interface DatasetChanges {
  account: string;
  added: number;
  updated: number;
  deleted: number;
  seed: string;
}

export interface DatasetSummary {
  provider: string;
  model: string;
  accountId: string;
  count: number;
  [fact: string]: unknown;
}

export interface DatasetKind {
  provider: string;
  model: string;
  size(state: SandboxState, input: DatasetSizing): DatasetSummary | undefined;
  change(state: SandboxState, input: DatasetChanges): DatasetSummary | undefined;
}

const gmailMessages: DatasetKind = {
  provider: 'google',
  model: 'messages',
  size(state, input) {
    const user = state.accounts.google.find((u) => u.sub === input.account || u.email === input.account);
    if (!user) return undefined;
    const now = state.clock.now();
    const current = mailboxOf(state, user.sub);
    // Same seed and count: only the malformed records change, and the history made so far stays.
    if (current && current.spec.seed === input.seed && current.spec.count === input.count) {
      current.withMalformedEvery(input.malformedEvery);
      return summary(current);
    }
    const mailbox = makeMailbox(
      {
        accountId: user.sub,
        email: user.email,
        count: input.count,
        seed: input.seed,
        malformedEvery: input.malformedEvery,
      },
      now,
    );
    state.datasets.set('google', 'messages', user.sub, mailbox);
    return summary(mailbox);
  },
  change(state, input) {
    const user = state.accounts.google.find((u) => u.sub === input.account || u.email === input.account);
    const mailbox = user && mailboxOf(state, user.sub);
    if (!mailbox) return undefined;
    mailbox.change(input, state.clock.now());
    return summary(mailbox);
  },
};

export function mailboxOf(state: SandboxState, accountId: string): Mailbox | undefined {
  return state.datasets.get<Mailbox>('google', 'messages', accountId);
}

function summary(mailbox: Mailbox): DatasetSummary {
  return {
    provider: 'google',
    model: 'messages',
    accountId: mailbox.spec.accountId,
    count: mailbox.live(),
    historyId: String(mailbox.historyId()),
  };
}

export const DATASET_KINDS: readonly DatasetKind[] = [
  gmailMessages,
  googleCollectionKind('events'),
  googleCollectionKind('files'),
  googleCollectionKind('videos'),
  ...RECORD_SET_KINDS,
];
