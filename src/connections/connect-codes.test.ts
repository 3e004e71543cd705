import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONNECT_OUTCOME_CODES } from '../errors.ts';

describe('connect outcome codes', () => {
  it('are all documented in docs/errors.md, and nothing else is', () => {
    const doc = readFileSync(join(import.meta.dirname, '../../docs/errors.md'), 'utf8');
    const start = doc.indexOf('## Connect outcome codes');
    const end = doc.indexOf('\n## ', start + 1);
    const section = doc.slice(start, end === -1 ? undefined : end);
    const documented = [...section.matchAll(/^\| ((?:`[a-z_]+`(?:, )?)+) \|/gm)].flatMap((match) =>
      [...match[1]!.matchAll(/`([a-z_]+)`/g)].map((code) => code[1]!),
    );
    expect(documented.sort()).toEqual([...CONNECT_OUTCOME_CODES].sort());
  });
});
