import { describe, expect, it } from 'vitest';
import { makeTeardown } from './teardown.ts';

describe('makeTeardown', () => {
  it('runs the steps last added first, each once', async () => {
    const teardown = makeTeardown();
    const ran: string[] = [];
    teardown.add(() => ran.push('database'));
    teardown.add(async () => ran.push('workers'));
    teardown.add(() => ran.push('server'));
    await teardown.run({ hurried: false });
    await teardown.run({ hurried: false });
    expect(ran).toEqual(['server', 'workers', 'database']);
  });

  it('runs every step after a failing one, then throws the first error when graceful', async () => {
    const teardown = makeTeardown();
    const ran: string[] = [];
    teardown.add(() => ran.push('database'));
    teardown.add(() => {
      throw new Error('first');
    });
    teardown.add(async () => {
      throw new Error('second');
    });
    await expect(teardown.run({ hurried: false })).rejects.toThrow('second');
    expect(ran).toEqual(['database']);
  });

  it('drops the errors and tells each step it is hurried when start-up failed', async () => {
    const teardown = makeTeardown();
    const seen: boolean[] = [];
    teardown.add((hurried) => seen.push(hurried));
    teardown.add(() => {
      throw new Error('ignored');
    });
    await teardown.run({ hurried: true });
    expect(seen).toEqual([true]);
  });
});
