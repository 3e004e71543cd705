import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRaw, parseRawResponse } from '../../test/harness/raw-http.ts';
import { startTestTether, type TestTether } from '../../test/harness/tether.ts';

/** Sends raw bytes on a fresh socket and returns the answer, parsed. */
async function sendRaw(t: TestTether, bytes: string) {
  const client = await connectRaw(t.url);
  client.socket.write(bytes);
  return parseRawResponse(await client.closed);
}

const errorShape = (code: string) => ({ error: { code, message: expect.any(String) } });

describe('every error has the {error: {code, message}} shape', () => {
  let t: TestTether;
  beforeAll(async () => {
    t = await startTestTether({ listen: true, env: { TETHER_BODY_LIMIT_BYTES: '4096' } });
  });
  afterAll(() => t.close());

  describe('requests the HTTP parser rejects, over a socket', () => {
    it('answers 400 bad_request to a malformed request line', async () => {
      const response = await sendRaw(t, 'GARBAGE\r\n\r\n');
      expect(response.status).toBe(400);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(JSON.parse(response.body)).toEqual(errorShape('bad_request'));
    });

    it('answers 400 bad_request to a malformed header', async () => {
      for (const header of ['no colon here', 'bad header: x', 'x-ok: line\u0001break']) {
        const response = await sendRaw(t, `GET /healthz HTTP/1.1\r\nhost: x\r\n${header}\r\n\r\n`);
        expect(response.status, header).toBe(400);
        expect(JSON.parse(response.body), header).toEqual(errorShape('bad_request'));
      }
    });

    it('answers 431 header_fields_too_large to headers over the limit', async () => {
      const response = await sendRaw(
        t,
        `GET /healthz HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`,
      );
      expect(response.status).toBe(431);
      expect(JSON.parse(response.body)).toEqual(errorShape('header_fields_too_large'));
    });

    it('counts what it rejects', async () => {
      const metrics = (await t.app.inject({ method: 'GET', url: '/metrics', headers: t.auth })).body;
      expect(metrics).toMatch(/^tether_http_rejected_total\{reason="bad_request"\} [1-9]/m);
      expect(metrics).toMatch(/^tether_http_rejected_total\{reason="header_fields_too_large"\} [1-9]/m);
    });
  });

  describe('URLs the router rejects', () => {
    it('answers 414 uri_too_long to a very long path parameter', async () => {
      for (const path of [`/v1/integrations/${'a'.repeat(300)}`, `/v1/connections/${'c'.repeat(300)}`]) {
        const response = await fetch(`${t.url}${path}`, { headers: t.auth });
        expect(response.status, path).toBe(414);
        expect(await response.json()).toEqual(errorShape('uri_too_long'));
        expect(response.headers.get('x-request-id')).toBeTruthy();
      }
    });

    it('answers 400 bad_request to a path parameter that is not valid percent-encoding', async () => {
      const response = await fetch(`${t.url}/v1/integrations/%E0%A4%A`, { headers: t.auth });
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual(errorShape('bad_request'));
    });
  });

  it('says the limit in bytes when a body is too large', async () => {
    const response = await fetch(`${t.url}/v1/connect-sessions`, {
      method: 'POST',
      headers: { ...t.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ integration: 'x', endUserId: 'x'.repeat(5000) }),
    });
    expect(response.status).toBe(413);
    const body = (await response.json()) as { error: { message: string } };
    expect(body).toEqual(errorShape('payload_too_large'));
    expect(body.error.message).toContain('4096');
  });
});
