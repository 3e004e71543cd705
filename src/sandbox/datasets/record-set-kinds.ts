import type { SandboxState } from '../state.ts';
import type { DatasetKind, DatasetSummary } from './kinds.ts';
import { makeRecordSet, type RecordSet } from './record-set.ts';

/**
 * Dataset kinds backed by a generated record set (record-set.ts), one per provider collection,
 * each with the account it belongs to: Xero invoices per tenant, DocuSign envelopes per API
 * account, Notion pages per user, Instagram media per professional account, TikTok videos per
 * open_id. `account` may also be an email (or a Xero tenant name) where the provider has one.
 */

interface RecordSetKindInput {
  provider: string;
  model: string;
  /** The dataset's account id for what the control call named, if it names one. */
  accountOf(state: SandboxState, account: string): string | undefined;
}

function recordSetKind({ provider, model, accountOf }: RecordSetKindInput): DatasetKind {
  const summary = (set: RecordSet): DatasetSummary => ({
    provider,
    model,
    accountId: set.spec.accountId,
    count: set.live(),
    size: set.size(),
  });
  return {
    provider,
    model,
    size(state, input) {
      const accountId = accountOf(state, input.account);
      if (!accountId) return undefined;
      const current = recordSetOf(state, provider, model, accountId);
      // Same seed and count: only the malformed records change, and the changes made so far stay.
      if (current && current.spec.seed === input.seed && current.spec.count === input.count) {
        current.withMalformedEvery(input.malformedEvery);
        return summary(current);
      }
      const set = makeRecordSet({
        accountId,
        count: input.count,
        seed: input.seed,
        malformedEvery: input.malformedEvery,
      });
      state.datasets.set(provider, model, accountId, set);
      return summary(set);
    },
    change(state, input) {
      const accountId = accountOf(state, input.account);
      const set = accountId && recordSetOf(state, provider, model, accountId);
      if (!set) return undefined;
      set.change(input, state.clock.now());
      return summary(set);
    },
  };
}

export function recordSetOf(
  state: SandboxState,
  provider: string,
  model: string,
  accountId: string,
): RecordSet | undefined {
  return state.datasets.get<RecordSet>(provider, model, accountId);
}

export const RECORD_SET_KINDS: readonly DatasetKind[] = [
  recordSetKind({
    provider: 'xero',
    model: 'invoices',
    accountOf: (state, account) =>
      state.accounts.xero
        .flatMap((u) => u.tenants)
        .find((t) => t.tenantId === account || t.tenantName === account)?.tenantId,
  }),
  recordSetKind({
    provider: 'docusign',
    model: 'envelopes',
    accountOf(state, account) {
      for (const user of state.accounts.docusign) {
        const direct = user.accounts.find((a) => a.accountId === account);
        if (direct) return direct.accountId;
        if (user.sub === account || user.email === account)
          return (user.accounts.find((a) => a.isDefault) ?? user.accounts[0])?.accountId;
      }
      return undefined;
    },
  }),
  recordSetKind({
    provider: 'notion',
    model: 'pages',
    accountOf: (state, account) =>
      state.accounts.notion.find((u) => u.id === account || u.email === account)?.id,
  }),
  recordSetKind({
    provider: 'instagram',
    model: 'media',
    accountOf: (state, account) =>
      state.accounts.instagram.find((u) => u.userId === account || u.username === account)?.userId,
  }),
  recordSetKind({
    provider: 'tiktok',
    model: 'videos',
    accountOf: (state, account) =>
      state.accounts.tiktok.find((u) => u.openId === account || u.username === account)?.openId,
  }),
];
