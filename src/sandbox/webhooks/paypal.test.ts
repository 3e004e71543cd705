import { verify, X509Certificate } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeWebhookSandboxClient, type WebhookSandboxClient } from './client.ts';
import { paypalCrc32 } from './paypal.ts';
import { makePaypalEvent, PAYPAL_EVENT_TYPES } from './paypal-events.ts';
import { type Receiver, type SandboxServer, startReceiver, startSandbox } from './test-support.ts';

const DAY = 86_400_000;
const isoIn = (ms: number) => new Date(Date.now() + ms).toISOString();
const WEBHOOK_ID = '8PT597110X687430LKGECATA';

// An honest offline verifier written from PayPal's published algorithm, independent of paypal.ts.
async function verifyPaypal(headers: Record<string, string>, raw: string, webhookId: string, caPem: string) {
  const pem = await (await fetch(headers['paypal-cert-url']!)).text();
  const leaf = new X509Certificate(pem.slice(0, pem.indexOf('-----END CERTIFICATE-----') + 25));
  const now = Date.now();
  if (now < leaf.validFromDate.getTime()) return 'not_yet_valid';
  if (now > leaf.validToDate.getTime()) return 'expired';
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(leaf.subject)?.[1] ?? '';
  if (!cn.endsWith('.paypal.com')) return 'wrong_cn';
  if (!leaf.verify(new X509Certificate(caPem).publicKey)) return 'untrusted_issuer';
  const crc = crc32(Buffer.from(raw, 'utf8')) >>> 0;
  const signed = `${headers['paypal-transmission-id']}|${headers['paypal-transmission-time']}|${webhookId}|${crc}`;
  const ok = verify(
    'sha256',
    Buffer.from(signed),
    leaf.publicKey,
    Buffer.from(headers['paypal-transmission-sig']!, 'base64'),
  );
  return ok ? 'valid' : 'bad_signature';
}

let sandbox: SandboxServer;
let receiver: Receiver;
let client: WebhookSandboxClient;
let caPem: string;

beforeAll(async () => {
  sandbox = await startSandbox();
  receiver = await startReceiver();
  client = makeWebhookSandboxClient(sandbox.sandboxUrl);
  caPem = (await client.config()).paypal.caPem;
});
afterAll(async () => {
  await receiver.close();
  await sandbox.close();
});

async function sendOne(extra: { cert?: string; raw?: string[] } = {}) {
  const report = await client.send('paypal', {
    target: receiver.url,
    webhookId: WEBHOOK_ID,
    ...(extra.raw ? { raw: extra.raw } : { events: [{ type: 'PAYMENT.CAPTURE.COMPLETED' }] }),
    ...(extra.cert ? { cert: extra.cert } : {}),
  });
  expect(report.delivered).toBe(1);
  return receiver.received.at(-1)!;
}

describe('PayPal signer', () => {
  it('computes the CRC-32 check vector from the facts file as an unsigned decimal', () => {
    expect(paypalCrc32('{"id":"WH-TEST","event_type":"PAYMENT.CAPTURE.COMPLETED"}')).toBe(3391999205);
  });

  it('sends the five PayPal headers and a signature that verifies with the served certificate', async () => {
    const got = await sendOne();
    expect(got.headers['paypal-auth-algo']).toBe('SHA256withRSA');
    expect(got.headers['paypal-transmission-time']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(got.headers['paypal-cert-url']).toMatch(/\/sandbox\/paypal\/v1\/notifications\/certs\/CERT-/);
    expect(await verifyPaypal(got.headers, got.body, WEBHOOK_ID, caPem)).toBe('valid');
  });

  it('serves a certificate with the sandbox CN, issued by the sandbox CA', async () => {
    const { paypal } = await client.config();
    const pem = await (await fetch(paypal.certUrl)).text();
    const leaf = new X509Certificate(pem);
    expect(leaf.subject).toContain('CN=messageverificationcerts.sandbox.paypal.com');
    expect(leaf.checkIssued(new X509Certificate(caPem))).toBe(true);
  });

  it('fails verification under another webhook id or a changed body', async () => {
    const got = await sendOne();
    expect(await verifyPaypal(got.headers, got.body, 'OTHER-WEBHOOK', caPem)).toBe('bad_signature');
    expect(await verifyPaypal(got.headers, `${got.body} `, WEBHOOK_ID, caPem)).toBe('bad_signature');
  });

  it.each([
    ['expired', { notBefore: isoIn(-10 * DAY), notAfter: isoIn(-DAY) }],
    ['not_yet_valid', { notBefore: isoIn(DAY), notAfter: isoIn(10 * DAY) }],
    ['wrong_cn', { commonName: 'messageverificationcerts.paypal.com.evil.example' }],
    ['untrusted_issuer', { foreignIssuer: true }],
  ] as const)('issues a certificate an honest verifier rejects as %s', async (reason, opts) => {
    const name = `CERT-${reason}`;
    await client.issuePaypalCert({ name, ...opts });
    const got = await sendOne({ cert: name });
    expect(await verifyPaypal(got.headers, got.body, WEBHOOK_ID, caPem)).toBe(reason);
  });
});

describe('PayPal online verification endpoint', () => {
  const verifyUrl = () => `${sandbox.sandboxUrl}/paypal/v1/notifications/verify-webhook-signature`;
  const token = async () => {
    const res = await fetch(`${sandbox.sandboxUrl}/paypal/v1/oauth2/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('id:secret').toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
    });
    return ((await res.json()) as { access_token: string }).access_token;
  };
  const check = async (got: { headers: Record<string, string>; body: string }, overrides: object = {}) => {
    const res = await fetch(verifyUrl(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await token()}` },
      body: JSON.stringify({
        auth_algo: got.headers['paypal-auth-algo'],
        cert_url: got.headers['paypal-cert-url'],
        transmission_id: got.headers['paypal-transmission-id'],
        transmission_sig: got.headers['paypal-transmission-sig'],
        transmission_time: got.headers['paypal-transmission-time'],
        webhook_id: WEBHOOK_ID,
        webhook_event: JSON.parse(got.body),
        ...overrides,
      }),
    });
    return { status: res.status, body: (await res.json()) as { verification_status?: string } };
  };

  it('answers SUCCESS for a genuine delivery', async () => {
    const got = await sendOne();
    expect(await check(got)).toEqual({ status: 200, body: { verification_status: 'SUCCESS' } });
  });

  it('answers SUCCESS for a pretty-printed raw body it signed, though the event arrives re-serialised', async () => {
    const raw = JSON.stringify(makePaypalEvent('CHECKOUT.ORDER.APPROVED'), null, 2);
    const got = await sendOne({ raw: [raw] });
    expect((await check(got)).body.verification_status).toBe('SUCCESS');
  });

  it('answers 200 FAILURE for a wrong webhook id, a changed event or a foreign certificate URL', async () => {
    const got = await sendOne();
    const event = { ...JSON.parse(got.body), summary: 'changed' };
    for (const overrides of [
      { webhook_id: 'WRONG' },
      { webhook_event: event },
      { cert_url: 'https://api.sandbox.paypal.com/v1/notifications/certs/CERT-sandbox-default' },
    ]) {
      expect(await check(got, overrides)).toEqual({ status: 200, body: { verification_status: 'FAILURE' } });
    }
  });

  it('refuses a call without an access token and a malformed request', async () => {
    const anonymous = await fetch(verifyUrl(), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(anonymous.status).toBe(401);
    const got = await sendOne();
    const malformed = await check(got, { transmission_id: '' });
    expect(malformed.status).toBe(400);
    expect(malformed.body).toMatchObject({ name: 'VALIDATION_ERROR' });
  });
});

describe('PayPal event factories', () => {
  it.each(PAYPAL_EVENT_TYPES)('builds a well-formed %s event', (type) => {
    const event = makePaypalEvent(type, { seed: 7 });
    expect(event).toMatchObject({ event_version: '1.0', event_type: type, resource_version: '2.0' });
    expect(event.id).toMatch(/^WH-[0-9A-Z]{17}-[0-9A-Z]{17}$/);
    expect(event.resource.id).toEqual(expect.any(String));
    expect(makePaypalEvent(type, { seed: 7 })).toEqual(event);
  });
});
