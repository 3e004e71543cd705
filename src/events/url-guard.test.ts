import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEventReceiver } from '../../test/harness/event-receiver.ts';
import { startTestTether, type TestTether } from '../../test/harness/tether.ts';
import { emitEvent } from './emit.ts';
import { sendAttempt } from './send-attempt.ts';
import { isNonPublicAddress, urlProblem } from './url-guard.ts';

describe('the event URL guard', () => {
  it.each([
    ['127.0.0.1', true],
    ['10.1.2.3', true],
    ['172.20.0.1', true],
    ['192.168.1.1', true],
    ['169.254.169.254', true],
    ['100.64.0.1', true],
    ['0.0.0.0', true],
    ['::1', true],
    ['fe80::1', true],
    ['fd00::1', true],
    ['::ffff:127.0.0.1', true],
    ['::ffff:7f00:1', true],
    ['::127.0.0.1', true],
    ['::ffff:0:127.0.0.1', true],
    ['2002:7f00:1::', true],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', true],
    ['fec0::1', true],
    ['2001:db8::1', true],
    ['203.0.113.9', true],
    ['8.8.8.8', false],
    ['2606:4700::1111', false],
    ['::ffff:8.8.8.8', false],
  ])('classifies %s as non-public: %s', (address, expected) => {
    expect(isNonPublicAddress(address)).toBe(expected);
  });

  it('refuses schemes other than http(s), credentials, and literal private addresses when public-only', () => {
    const strict = { publicOnly: true };
    expect(urlProblem('ftp://example.com/x', strict)).toMatch(/http/);
    expect(urlProblem('javascript:alert(1)', strict)).toMatch(/http/);
    expect(urlProblem('https://user:pw@example.com/', strict)).toMatch(/credentials/);
    expect(urlProblem('http://[::1]:8080/', strict)).toMatch(/loopback/);
    expect(urlProblem('http://10.0.0.1/', strict)).toMatch(/private/);
    expect(urlProblem('https://example.com/hooks', strict)).toBeNull();
    expect(urlProblem('http://127.0.0.1:3000/', { publicOnly: false })).toBeNull();
  });

  it('refuses a name that resolves to loopback at delivery time, and sends when private addresses are allowed', async () => {
    const receiver = await startEventReceiver();
    const named = receiver.url.replace('127.0.0.1', 'localhost');
    try {
      const refused = await sendAttempt(named, {}, '{}', { timeoutMs: 2000, policy: { publicOnly: true } });
      expect(refused.status).toBeNull();
      expect(refused.error).toMatch(/not a public address/);
      const literal = await sendAttempt(receiver.url, {}, '{}', {
        timeoutMs: 2000,
        policy: { publicOnly: true },
      });
      expect(literal.error).toMatch(/not a public address/);
      expect(receiver.received).toHaveLength(0);
      const allowed = await sendAttempt(receiver.url, {}, '{}', {
        timeoutMs: 2000,
        policy: { publicOnly: false },
      });
      expect(allowed.status).toBe(204);
      expect(receiver.received).toHaveLength(1);
    } finally {
      await receiver.close();
    }
  });

  it('does not follow a redirect: a 3xx is a failed attempt', async () => {
    const receiver = await startEventReceiver();
    const target = await startEventReceiver();
    receiver.respond = (_request, response) => {
      response.statusCode = 307;
      response.setHeader('location', target.url);
      response.end();
    };
    try {
      const answer = await sendAttempt(receiver.url, {}, '{}', {
        timeoutMs: 2000,
        policy: { publicOnly: false },
      });
      expect(answer.status).toBe(307);
      expect(target.received).toHaveLength(0);
    } finally {
      await receiver.close();
      await target.close();
    }
  });
});

describe('event subscriptions in production mode', () => {
  let tether: TestTether;
  beforeAll(async () => {
    tether = await startTestTether({
      env: { NODE_ENV: 'production' },
      start: { events: { timeoutMs: 2000 } },
    });
  });
  afterAll(() => tether?.close());

  it('refuses private addresses: a literal one when subscribing, a name resolving to one when delivering', async () => {
    const receiver = await startEventReceiver();
    try {
      const literal = await tether.app.inject({
        method: 'POST',
        url: '/v1/event-subscriptions',
        headers: tether.auth,
        payload: { url: receiver.url, events: ['*'] },
      });
      expect(literal.statusCode).toBe(400);
      expect(literal.json().error.code).toBe('invalid_event_url');

      const named = await tether.app.inject({
        method: 'POST',
        url: '/v1/event-subscriptions',
        headers: tether.auth,
        payload: { url: receiver.url.replace('127.0.0.1', 'localhost'), events: ['*'] },
      });
      expect(named.statusCode).toBe(201);
      const id = named.json().id as string;
      await tether.database.db.transaction((tx) => emitEvent(tx, { type: 'sync.failed', data: {} }));
      const deadline = Date.now() + 10_000;
      let delivery: { attempts: number; lastError: string | null } | undefined;
      while (Date.now() < deadline) {
        const list = await tether.app.inject({
          method: 'GET',
          url: `/v1/event-subscriptions/${id}/deliveries`,
          headers: tether.auth,
        });
        delivery = list.json().items[0];
        if (delivery && delivery.attempts > 0 && delivery.lastError) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(delivery?.lastError).toMatch(/not a public address/);
      expect(receiver.received).toHaveLength(0);
    } finally {
      await receiver.close();
    }
  });
});
