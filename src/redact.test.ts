import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { redactSecrets } from './redact.ts';

describe('redactSecrets', () => {
  it('replaces secret-named fields at any depth, in objects and arrays', () => {
    const input = {
      connectionId: 'c1',
      nested: { access_token: 'at', list: [{ refreshToken: 'rt', ok: 1 }, 'x'] },
      'Client-Secret': 's',
      code: 'oauth-code',
    };
    expect(redactSecrets(input)).toEqual({
      connectionId: 'c1',
      nested: { access_token: '[redacted]', list: [{ refreshToken: '[redacted]', ok: 1 }, 'x'] },
      'Client-Secret': '[redacted]',
      code: '[redacted]',
    });
  });

  it('never modifies what it was given', () => {
    const input = { a: { password: 'p' }, b: [{ token: 't' }] };
    const before = structuredClone(input);
    redactSecrets(input);
    expect(input).toEqual(before);
  });

  it('hands back the same object when there is nothing to redact, and copies only what changes', () => {
    const clean = { a: 1, b: { c: [1, 2, { d: 'e' }] } };
    expect(redactSecrets(clean)).toBe(clean);
    const mixed = { keep: { x: 1 }, change: { apiKey: 'k' } };
    const out = redactSecrets(mixed) as typeof mixed;
    expect(out).not.toBe(mixed);
    expect(out.keep).toBe(mixed.keep);
    expect(out.change).toEqual({ apiKey: '[redacted]' });
  });

  it('leaves no secret-named field in its output, whatever the input', () => {
    const names = fc.constantFrom('token', 'accessToken', 'name', 'id', 'client_secret', 'Password', 'x');
    const tree = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        fc.string(),
        fc.integer(),
        fc.array(tie('node'), { maxLength: 3 }),
        fc.dictionary(names, tie('node'), { maxKeys: 4 }),
      ),
    })).node;
    fc.assert(
      fc.property(tree, (value) => {
        const text = JSON.stringify(redactSecrets(value));
        for (const match of text.matchAll(
          /"(token|accessToken|client_secret|Password)":("[^"]*"|[^,}\]]+|[[{])/g,
        ))
          expect(match[2]).toBe('"[redacted]"');
      }),
    );
  });
});
