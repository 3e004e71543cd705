import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { mailboxOf } from './datasets/kinds.ts';
import { applyDatasetOperation, findDatasetKind } from './datasets/operations.ts';
import { makeSnapshotWriter, readSnapshot, restoreSnapshot, snapshotOf } from './persistence.ts';
import { makeSandboxState, type SandboxState } from './state.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'sandbox-persistence-'));
  dirs.push(dir);
  return dir;
};

/** A state that has been used: a grant with tokens, a code, a moved clock, a changed mailbox. */
function usedState(): SandboxState {
  const state = makeSandboxState({ seed: 'p' });
  const account = state.accounts.google[0]!.sub;
  state.clock.advance(90_000);
  const now = state.clock.now();
  const grant = state.grants.create(
    { provider: 'google', clientId: 'c', accountId: account, scopes: ['s'] },
    now,
  );
  state.grants.issueAccess(grant, { now, ttlSec: 3600, prefix: 'ya29.' });
  state.grants.issueRefresh(grant, { now, ttlSec: null, prefix: '1//' });
  state.settings.google.accessTokenTtlSec = 60;
  const kind = findDatasetKind('google', 'messages')!;
  for (const operation of [
    { op: 'size', provider: 'google', model: 'messages', at: now, input: { account, count: 50, seed: 'm' } },
    {
      op: 'change',
      provider: 'google',
      model: 'messages',
      at: now + 1000,
      input: { account, added: 3, updated: 4, deleted: 5, seed: 'x' },
    },
  ] as const) {
    expect(applyDatasetOperation(state, kind, operation)).toBeDefined();
    state.datasets.record(operation);
  }
  return state;
}

describe('the sandbox snapshot', () => {
  it('brings back grants, tokens, settings, the clock and the datasets with their changes', () => {
    const used = usedState();
    const fresh = makeSandboxState({ seed: 'p' });
    restoreSnapshot(fresh, JSON.parse(JSON.stringify(snapshotOf(used))));
    expect(fresh.grants.dump()).toEqual(used.grants.dump());
    expect(fresh.settings.google.accessTokenTtlSec).toBe(60);
    expect(fresh.clock.offsetMs()).toBe(90_000);
    const account = used.accounts.google[0]!.sub;
    const [before, after] = [mailboxOf(used, account)!, mailboxOf(fresh, account)!];
    expect(after.historyId()).toBe(before.historyId());
    expect(after.live()).toBe(before.live());
    expect(after.historyAfter(0, 1000)).toEqual(before.historyAfter(0, 1000));
    for (const index of before.newest(before.size(), 100))
      expect(after.message(index)).toEqual(before.message(index));
  });

  it('refuses a snapshot made with another seed, whose account ids would not match', () => {
    expect(() => restoreSnapshot(makeSandboxState({ seed: 'q' }), snapshotOf(usedState()))).toThrow(
      /seed "p"/,
    );
  });

  it('reads nothing when there is no file, and names a file it cannot read', () => {
    const dir = tempDir();
    expect(readSnapshot(join(dir, 'none.json'))).toBeUndefined();
    writeFileSync(join(dir, 'bad.json'), '{"version": 1, "seed"');
    expect(() => readSnapshot(join(dir, 'bad.json'))).toThrow(/bad\.json is not JSON/);
    writeFileSync(join(dir, 'old.json'), '{"version": 0}');
    expect(() => readSnapshot(join(dir, 'old.json'))).toThrow(/version 0/);
  });

  it('is written whole through a temporary file, only when something changed', () => {
    const dir = tempDir();
    const file = join(dir, 'sandbox.json');
    const state = usedState();
    const writer = makeSnapshotWriter(state, file);
    writer.flush();
    expect(readSnapshot(file)?.grants).toEqual(state.grants.dump());
    expect(readdirSync(dir)).toEqual(['sandbox.json']);
    const written = statSync(file).mtimeMs;
    writer.flush();
    expect(statSync(file).mtimeMs).toBe(written);
    state.grants.clear();
    writer.close();
    expect(readSnapshot(file)?.grants.grants).toEqual([]);
  });
});
