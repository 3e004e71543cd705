import type { SandboxState } from '../state.ts';
import { type Collection, makeCollection } from './change-log.ts';
import type { DatasetKind, DatasetSummary } from './kinds.ts';

// The dataset kind of a Google API generated as a collection (change-log.ts): Calendar `events`,
// Drive `files`, YouTube `videos`. The account is a seeded Google account, by id or email.

export function googleCollectionKind(model: string): DatasetKind {
  const userOf = (state: SandboxState, account: string) =>
    state.accounts.google.find((u) => u.sub === account || u.email === account);
  return {
    provider: 'google',
    model,
    size(state, input) {
      const user = userOf(state, input.account);
      if (!user) return undefined;
      const current = googleCollectionOf(state, model, user.sub);
      // Same seed and count: only the malformed records change, and the changes made so far stay.
      if (current && current.spec.seed === input.seed && current.spec.count === input.count) {
        current.withMalformedEvery(input.malformedEvery);
        return summary(model, current);
      }
      const collection = makeCollection(
        { accountId: user.sub, count: input.count, seed: input.seed, malformedEvery: input.malformedEvery },
        state.clock.now(),
      );
      state.datasets.set('google', model, user.sub, collection);
      return summary(model, collection);
    },
    change(state, input) {
      const user = userOf(state, input.account);
      const collection = user && googleCollectionOf(state, model, user.sub);
      if (!collection) return undefined;
      collection.change(input, state.clock.now());
      return summary(model, collection);
    },
  };
}

export function googleCollectionOf(
  state: SandboxState,
  model: string,
  accountId: string,
): Collection | undefined {
  return state.datasets.get<Collection>('google', model, accountId);
}

function summary(model: string, collection: Collection): DatasetSummary {
  return {
    provider: 'google',
    model,
    accountId: collection.spec.accountId,
    count: collection.live(),
    position: collection.position(),
  };
}
