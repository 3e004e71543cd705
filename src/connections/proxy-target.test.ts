import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.ts';
import { isUnder, parseProxyPath, proxyTarget } from './proxy-target.ts';

const target = (base: string, rawPath: string, query = '') =>
  proxyTarget(base, parseProxyPath(rawPath, query)).href;

function refusal(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return error instanceof AppError ? error.code : `not an AppError: ${String(error)}`;
  }
}

describe('parseProxyPath and proxyTarget', () => {
  const base = 'http://127.0.0.1:3000/sandbox/xero';

  it('joins an ordinary path and its query under the API base', () => {
    expect(target(base, 'api.xro/2.0/Organisation', '?page=2')).toBe(
      'http://127.0.0.1:3000/sandbox/xero/api.xro/2.0/Organisation?page=2',
    );
    expect(target('https://api.example.com/', 'v1/items/')).toBe('https://api.example.com/v1/items/');
  });

  it('keeps an encoded slash inside a segment as data, and the characters a segment may hold', () => {
    expect(target('https://storage.example.com/storage/v1', 'b/bucket/o/folder%2Ffile.txt')).toBe(
      'https://storage.example.com/storage/v1/b/bucket/o/folder%2Ffile.txt',
    );
    expect(target(base, 'v1/projects/p:test@x,y;z=1+2')).toBe(`${base}/v1/projects/p:test@x,y;z=1+2`);
  });

  it('drops empty and "." segments', () => {
    expect(target(base, './/a/%2e/b')).toBe(`${base}/a/b`);
  });

  it.each([
    '..',
    '../healthz',
    '..%2f..%2f..%2f..%2fhealthz',
    '..%2F..%2Fv1%2Fintegrations',
    '%2e%2e/healthz',
    '%2E%2e%2fhealthz',
    '.%2e/healthz',
    'a/../../healthz',
    '..\\..\\healthz',
    '..%5c..%5chealthz',
    'a%2f..%2f..%2f..',
    '%252e%252e%252fhealthz',
    '%252e%252e/healthz',
  ])('refuses %s with invalid_proxy_path', (rawPath) => {
    expect(refusal(() => target(base, rawPath))).toBe('invalid_proxy_path');
  });

  it('refuses a malformed percent-encoding with invalid_proxy_path', () => {
    expect(refusal(() => target(base, 'a/%zz'))).toBe('invalid_proxy_path');
    expect(refusal(() => target(base, 'a/%ff'))).toBe('invalid_proxy_path');
  });

  it('cannot be steered to another host by an authority-looking path', () => {
    for (const rawPath of [
      '//evil.example/x',
      '@evil.example/x',
      'http:%2f%2fevil.example',
      '%2f%2fevil.example',
    ]) {
      const url = new URL(target('https://api.example.com/v2', rawPath));
      expect(url.origin, rawPath).toBe('https://api.example.com');
      expect(url.pathname.startsWith('/v2/'), rawPath).toBe(true);
    }
  });
});

describe('isUnder', () => {
  it('needs the same origin and the prefix as whole segments', () => {
    const under = (url: string) => isUnder(new URL(url), 'https://api.example.com', '/restapi');
    expect(under('https://api.example.com/restapi')).toBe(true);
    expect(under('https://api.example.com/restapi/v2.1/accounts')).toBe(true);
    expect(under('https://api.example.com/restapix')).toBe(false);
    expect(under('https://api.example.com/healthz')).toBe(false);
    expect(under('https://api.example.com.evil.example/restapi')).toBe(false);
    expect(under('https://user:pass@api.example.com/restapi')).toBe(false);
  });
});

// The pieces attackers build paths from, mixed with arbitrary text.
const piece = fc.oneof(
  fc.constantFrom(
    '..',
    '.',
    '',
    '%2e',
    '%2E%2e',
    '.%2e',
    '%2f',
    '%2F',
    '%5c',
    '\\',
    '/',
    '%252e',
    '%252f',
    '%25',
    '?',
    '#',
    '@',
    ':',
    '%00',
    'evil.example',
    'http:',
    'a',
    'v1',
  ),
  fc.string({ maxLength: 6 }),
);
const rawPath = fc.array(piece, { maxLength: 12 }).map((pieces) => pieces.join(''));
const apiBase = fc.constantFrom(
  'https://api.xero.com',
  'https://api.example.com/',
  'http://127.0.0.1:3000/sandbox/xero',
  'https://na3.docusign.net/restapi',
  'https://www.googleapis.com/gmail/v1/',
);

describe('proxyTarget (property)', () => {
  it('never accepts a path that resolves outside the API base, even when re-parsed', () => {
    fc.assert(
      fc.property(apiBase, rawPath, fc.string({ maxLength: 8 }), (baseUrl, path, rawQuery) => {
        let url: URL;
        try {
          url = proxyTarget(baseUrl, parseProxyPath(path, rawQuery === '' ? '' : `?${rawQuery}`));
        } catch (error) {
          expect(error).toBeInstanceOf(AppError);
          expect((error as AppError).code).toBe('invalid_proxy_path');
          return;
        }
        const base = new URL(baseUrl);
        const prefix = base.pathname.replace(/\/+$/, '');
        // What fetch sends is the href parsed again: it must still be inside.
        for (const sent of [url, new URL(url.href)]) {
          expect(isUnder(sent, base.origin, prefix), `${path} → ${sent.href}`).toBe(true);
          const segments = sent.pathname.split('/').map((s) => decodeURIComponent(s).replaceAll('\\', '/'));
          expect(
            segments.flatMap((s) => s.split('/')),
            `${path} → ${sent.href}`,
          ).not.toContain('..');
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('accepts every path of plain segments and keeps it as it was', () => {
    const segment = fc.stringMatching(/^[A-Za-z0-9_~-][A-Za-z0-9._~-]{0,10}$/);
    fc.assert(
      fc.property(apiBase, fc.array(segment, { minLength: 1, maxLength: 6 }), (baseUrl, segments) => {
        const url = proxyTarget(baseUrl, parseProxyPath(segments.join('/')));
        expect(url.href).toBe(`${baseUrl.replace(/\/+$/, '')}/${segments.join('/')}`);
      }),
    );
  });
});
