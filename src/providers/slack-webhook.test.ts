import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ProviderError } from './provider.ts';
import { makeProviderRuntime } from './runtime.ts';
import { postToIncomingWebhook } from './slack.ts';

// postToIncomingWebhook against a real HTTP server that answers as Slack's webhooks do, one
// scripted answer per request.

type Answer = { status: number; body: string; headers?: Record<string, string> };

let server: Server;
let url: string;
let script: Answer[] = [];
let received: string[] = [];
const rt = makeProviderRuntime({ timeoutMs: 2_000 });
const waits: number[] = [];
const options = {
  sleep: async (ms: number) => {
    waits.push(ms);
  },
};

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      received.push(body);
      const answer = script.shift() ?? { status: 200, body: 'ok' };
      response.writeHead(answer.status, { 'content-type': 'text/html', ...answer.headers }).end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T1/B1/s3cr3t-webhook-path`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));
beforeEach(() => {
  script = [];
  received = [];
  waits.length = 0;
});

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(
    () => expect.unreachable('the post succeeded'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderError);
  expect((error as Error).message).not.toContain('s3cr3t');
  return error as ProviderError;
}

describe('postToIncomingWebhook', () => {
  it('posts the message as JSON and counts one attempt', async () => {
    expect(await postToIncomingWebhook(rt, url, { text: 'hello' }, options)).toEqual({ attempts: 1 });
    expect(received.map((body) => JSON.parse(body))).toEqual([{ text: 'hello' }]);
  });

  it('retries a 429 after its Retry-After, and a 5xx after a backoff, then delivers', async () => {
    script = [
      { status: 429, body: 'rate_limited', headers: { 'retry-after': '2' } },
      { status: 500, body: 'rollup_error' },
    ];
    expect(await postToIncomingWebhook(rt, url, { text: 'again' }, options)).toEqual({ attempts: 3 });
    expect(waits).toEqual([2000, 500]);
  });

  it('gives up after three passing failures with the last one, transient', async () => {
    script = [500, 502, 503].map((status) => ({ status, body: 'no' }));
    const error = await failure(postToIncomingWebhook(rt, url, { text: 'x' }, options));
    expect({ kind: error.kind, status: error.status }).toEqual({ kind: 'transient', status: 503 });
    expect(received).toHaveLength(3);
  });

  it('does not retry a refused payload', async () => {
    script = [{ status: 400, body: 'invalid_payload' }];
    const error = await failure(postToIncomingWebhook(rt, url, { text: 'x' }, options));
    expect({ kind: error.kind, code: error.providerCode }).toEqual({
      kind: 'refused',
      code: 'invalid_payload',
    });
    expect(received).toHaveLength(1);
  });

  it.each([
    [403, 'invalid_token'],
    [404, 'no_service'],
    [410, 'channel_is_archived'],
  ])('treats %i %s as a webhook gone for good', async (status, body) => {
    script = [{ status, body }];
    const error = await failure(postToIncomingWebhook(rt, url, { text: 'x' }, options));
    expect({ kind: error.kind, code: error.providerCode }).toEqual({ kind: 'permanent', code: body });
    expect(received).toHaveLength(1);
  });

  it('keeps no page text as the code, and does not retry an answer it cannot use', async () => {
    script = [{ status: 404, body: '<html>Not here</html>' }];
    expect((await failure(postToIncomingWebhook(rt, url, { text: 'x' }, options))).providerCode).toBe(
      'http_404',
    );
    script = [{ status: 413, body: 'too big' }];
    const error = await failure(postToIncomingWebhook(rt, url, { text: 'x' }, options));
    expect({ kind: error.kind, code: error.providerCode }).toEqual({
      kind: 'configuration',
      code: 'http_413',
    });
  });

  it('retries a network failure, and names none of the URL', async () => {
    const closed = url.replace(/:\d+\//, ':9/');
    const error = await failure(postToIncomingWebhook(rt, closed, { text: 'x' }, options));
    expect({ kind: error.kind, code: error.providerCode }).toEqual({
      kind: 'transient',
      code: 'network_error',
    });
    expect(waits).toEqual([250, 500]);
  });
});
