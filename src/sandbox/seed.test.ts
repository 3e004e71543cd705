import { describe, expect, it } from 'vitest';
import { makeSandboxState } from './state.ts';

describe('seeded accounts', () => {
  it('gives the same ids for the same seed', () => {
    const a = makeSandboxState({ seed: 'x' });
    const b = makeSandboxState({ seed: 'x' });
    expect(b.accounts).toEqual(a.accounts);
    expect(a.accounts.xero[0]!.tenants[0]!.tenantId).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.accounts.slack.team.id).toMatch(/^T[0-9A-Z]{10}$/);
  });

  it('gives different ids for another seed', () => {
    const a = makeSandboxState({ seed: 'x' });
    const b = makeSandboxState({ seed: 'y' });
    expect(b.accounts.google[0]!.sub).not.toBe(a.accounts.google[0]!.sub);
  });

  it('keeps the seeded ids across a reset', () => {
    const state = makeSandboxState({ seed: 'x' });
    const before = structuredClone(state.accounts);
    state.reset();
    expect(state.accounts).toEqual(before);
  });
});
