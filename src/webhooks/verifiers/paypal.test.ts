import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makePaypalVerifier, type PaypalVerifierOptions, paypalSignedString } from './paypal.ts';
import { makePaypalCertStore } from './paypal-certs.ts';
import { startWebhookFixture, tamper, type WebhookFixture } from './testing.ts';
import type { WebhookRequest } from './types.ts';

const WEBHOOK_ID = '8PT597110X687430LKGECATA';
const DAY = 86_400_000;
const isoIn = (ms: number) => new Date(Date.now() + ms).toISOString();

let fx: WebhookFixture;
beforeAll(async () => {
  fx = await startWebhookFixture();
});
afterAll(() => fx.close());
beforeEach(async () => {
  await fx.control.clearFaults();
});

const verifierFor = (extra: Partial<PaypalVerifierOptions> = {}) =>
  makePaypalVerifier({
    webhookId: WEBHOOK_ID,
    allowedCertOrigins: [fx.sandbox.origin],
    trustedCaPems: [fx.config.paypal.caPem],
    ...extra,
  });

const sendOne = async (extra: { cert?: string; transmissionTime?: string } = {}): Promise<WebhookRequest> => {
  const [got] = await fx.capture('paypal', {
    webhookId: WEBHOOK_ID,
    events: [{ type: 'PAYMENT.CAPTURE.COMPLETED' }],
    ...extra,
  });
  return got!;
};

describe('PayPal signed string', () => {
  it('ends with the CRC-32 check vector from the facts file as an unsigned decimal', () => {
    const body = Buffer.from('{"id":"WH-TEST","event_type":"PAYMENT.CAPTURE.COMPLETED"}');
    expect(paypalSignedString('tid', '2024-01-01T00:00:00Z', 'WHID', body)).toBe(
      'tid|2024-01-01T00:00:00Z|WHID|3391999205',
    );
  });
});

describe('PayPal offline verifier', () => {
  it('accepts sandbox-signed events and answers the body id and event type', async () => {
    const got = await fx.capture('paypal', {
      webhookId: WEBHOOK_ID,
      events: [{ type: 'PAYMENT.CAPTURE.COMPLETED' }, { type: 'CHECKOUT.ORDER.APPROVED' }],
    });
    const verifier = verifierFor();
    for (const request of got) {
      const body = JSON.parse(request.rawBody.toString());
      expect(await verifier.verify(request)).toMatchObject({
        ok: true,
        eventId: body.id,
        eventType: body.event_type,
      });
    }
  });

  it('rejects a tampered body and another webhook id as bad_signature', async () => {
    const got = await sendOne();
    const body = Buffer.from(got.rawBody)
      .toString()
      .replace('"PAYMENT.CAPTURE.COMPLETED"', '"PAYMENT.CAPTURE.REFUNDED"');
    expect(await verifierFor().verify(tamper(got, { body }))).toMatchObject({
      ok: false,
      reason: 'bad_signature',
    });
    expect(await verifierFor({ webhookId: 'SOMEONE-ELSES-LISTENER' }).verify(got)).toMatchObject({
      ok: false,
      reason: 'bad_signature',
    });
  });

  it('rejects a valid certificate of another key as bad_signature', async () => {
    const other = await fx.senders.issuePaypalCert({ name: 'CERT-other-key' });
    const got = await sendOne();
    const result = await verifierFor().verify(tamper(got, { headers: { 'paypal-cert-url': other.certUrl } }));
    expect(result).toMatchObject({ ok: false, reason: 'bad_signature' });
  });

  it.each([
    ['a host off the allow-list', 'https://evil.example/v1/notifications/certs/CERT-1'],
    ['a look-alike host', 'https://api.paypal.com.evil.example/v1/notifications/certs/CERT-1'],
    ['http on a PayPal host', 'http://api.paypal.com/v1/notifications/certs/CERT-1'],
    ['a non-default port', 'https://api.paypal.com:8443/v1/notifications/certs/CERT-1'],
    ['credentials in the URL', 'https://user:pw@api.paypal.com/v1/notifications/certs/CERT-1'],
    ['no URL at all', 'not a url'],
  ])('rejects %s as cert_url_not_allowed before fetching', async (_label, certUrl) => {
    const got = await sendOne();
    const result = await verifierFor().verify(tamper(got, { headers: { 'paypal-cert-url': certUrl } }));
    expect(result).toMatchObject({ ok: false, reason: 'cert_url_not_allowed' });
  });

  it('rejects the sandbox http cert URL unless its origin is explicitly allowed', async () => {
    const got = await sendOne();
    const before = await fx.control.callCount('paypal.cert');
    const strict = verifierFor({ allowedCertOrigins: [] });
    expect(await strict.verify(got)).toMatchObject({ ok: false, reason: 'cert_url_not_allowed' });
    expect(await fx.control.callCount('paypal.cert')).toBe(before);
  });

  it.each([
    ['an expired certificate', { notBefore: isoIn(-10 * DAY), notAfter: isoIn(-DAY) }, /expired/],
    ['a not-yet-valid certificate', { notBefore: isoIn(DAY), notAfter: isoIn(10 * DAY) }, /not yet valid/],
    ['a CN outside .paypal.com', { commonName: 'messageverificationcerts.paypal.com.evil.example' }, /CN/],
    ['a certificate from a foreign issuer', { foreignIssuer: true }, /trusted CA/],
  ])('rejects %s as cert_invalid', async (label, options, message) => {
    const name = `CERT-${label.replaceAll(/[^a-z]+/g, '-')}`;
    await fx.senders.issuePaypalCert({ name, ...options });
    const result = await verifierFor().verify(await sendOne({ cert: name }));
    expect(result).toMatchObject({
      ok: false,
      reason: 'cert_invalid',
      message: expect.stringMatching(message),
    });
  });

  it('checks the chain against Node’s root store by default, and not at all when turned off', async () => {
    const got = await sendOne();
    const defaultTrust = verifierFor({ trustedCaPems: undefined });
    expect(await defaultTrust.verify(got)).toMatchObject({ ok: false, reason: 'cert_invalid' });
    await fx.senders.issuePaypalCert({ name: 'CERT-foreign-unchecked', foreignIssuer: true });
    const foreign = await sendOne({ cert: 'CERT-foreign-unchecked' });
    expect((await verifierFor({ verifyCertChain: false }).verify(foreign)).ok).toBe(true);
  });

  it('accepts a custom CN suffix when configured', async () => {
    await fx.senders.issuePaypalCert({ name: 'CERT-test-cn', commonName: 'signer.tests.example' });
    const got = await sendOne({ cert: 'CERT-test-cn' });
    expect((await verifierFor().verify(got)).ok).toBe(false);
    expect((await verifierFor({ certCommonNameSuffix: '.tests.example' }).verify(got)).ok).toBe(true);
  });

  it('rejects a transmission time outside 300 s past and 60 s future as timestamp_out_of_range', async () => {
    const stale = await sendOne({ transmissionTime: `${isoIn(-301_000).slice(0, 19)}Z` });
    const ahead = await sendOne({ transmissionTime: `${isoIn(120_000).slice(0, 19)}Z` });
    const verifier = verifierFor();
    expect(await verifier.verify(stale)).toMatchObject({ ok: false, reason: 'timestamp_out_of_range' });
    expect(await verifier.verify(ahead)).toMatchObject({ ok: false, reason: 'timestamp_out_of_range' });
    expect((await verifierFor({ maxAgeSeconds: 600 }).verify(stale)).ok).toBe(true);
  });

  it('rejects missing and malformed headers without fetching anything', async () => {
    const got = await sendOne();
    const verifier = verifierFor();
    for (const name of [
      'paypal-transmission-id',
      'paypal-transmission-time',
      'paypal-transmission-sig',
      'paypal-cert-url',
      'paypal-auth-algo',
    ]) {
      expect(await verifier.verify(tamper(got, { headers: { [name]: undefined } })), name).toMatchObject({
        reason: 'missing_header',
      });
    }
    for (const headers of [
      { 'paypal-auth-algo': 'SHA1withRSA' },
      { 'paypal-transmission-time': 'yesterday' },
      { 'paypal-transmission-sig': 'not base64!' },
    ]) {
      expect(await verifier.verify(tamper(got, { headers }))).toMatchObject({ reason: 'malformed_header' });
    }
  });

  it('rejects a signed body without an id as malformed_payload', async () => {
    const [got] = await fx.capture('paypal', { webhookId: WEBHOOK_ID, raw: ['{"event_type":"X"}'] });
    expect(await verifierFor().verify(got!)).toMatchObject({ ok: false, reason: 'malformed_payload' });
  });
});

describe('PayPal certificate cache', () => {
  it('fetches the certificate once for many events, concurrent ones included', async () => {
    const events = Array.from({ length: 20 }, () => ({ type: 'PAYMENT.CAPTURE.COMPLETED' as const }));
    const got = await fx.capture('paypal', { webhookId: WEBHOOK_ID, events });
    const verifier = verifierFor({ certStore: makePaypalCertStore() });
    const before = await fx.control.callCount('paypal.cert');
    const results = await Promise.all(got.map((request) => verifier.verify(request)));
    expect(results.every((r) => r.ok)).toBe(true);
    for (const request of got.slice(0, 5)) expect((await verifier.verify(request)).ok).toBe(true);
    expect(await fx.control.callCount('paypal.cert')).toBe(before + 1);
  });

  it('fetches again once the cached certificate is older than its ttl', async () => {
    let now = 0;
    const verifier = verifierFor({ certStore: makePaypalCertStore({ ttlMs: 1000, clock: () => now }) });
    const got = await sendOne();
    const before = await fx.control.callCount('paypal.cert');
    expect((await verifier.verify(got)).ok).toBe(true);
    now = 999;
    expect((await verifier.verify(got)).ok).toBe(true);
    now = 1001;
    expect((await verifier.verify(got)).ok).toBe(true);
    expect(await fx.control.callCount('paypal.cert')).toBe(before + 2);
  });

  it('answers cert_fetch_failed on an error, does not cache it, and succeeds on the retry', async () => {
    const got = await sendOne();
    const verifier = verifierFor({ certStore: makePaypalCertStore() });
    await fx.control.failNext('paypal.cert', 503, { times: 2 });
    const failed = await Promise.all([verifier.verify(got), verifier.verify(got)]);
    expect(failed).toEqual([
      expect.objectContaining({ reason: 'cert_fetch_failed' }),
      expect.objectContaining({ reason: 'cert_fetch_failed' }),
    ]);
    expect((await verifier.verify(got)).ok).toBe(false);
    expect((await verifier.verify(got)).ok).toBe(true);
  });

  it('gives up on a slow certificate after the timeout and on one larger than the size cap', async () => {
    const got = await sendOne();
    await fx.control.latency('paypal.cert', 2000, { times: 1 });
    const slow = verifierFor({ certStore: makePaypalCertStore({ timeoutMs: 200 }) });
    expect(await slow.verify(got)).toMatchObject({
      reason: 'cert_fetch_failed',
      message: expect.stringMatching(/200 ms/),
    });

    await fx.control.failNext('paypal.cert', 200, { body: 'A'.repeat(100_000) });
    const capped = verifierFor({ certStore: makePaypalCertStore({ maxBytes: 64 * 1024 }) });
    expect(await capped.verify(got)).toMatchObject({
      reason: 'cert_fetch_failed',
      message: expect.stringMatching(/larger/),
    });
  });

  it('answers cert_invalid for a URL that serves no certificate', async () => {
    const got = await sendOne();
    await fx.control.failNext('paypal.cert', 200, { body: 'hello' });
    const result = await verifierFor({ certStore: makePaypalCertStore() }).verify(got);
    expect(result).toMatchObject({ ok: false, reason: 'cert_invalid' });
  });
});

describe('PayPal online verifier', () => {
  const online = (webhookId = WEBHOOK_ID) =>
    verifierFor({
      webhookId,
      online: {
        apiBaseUrl: `${fx.sandbox.url}/paypal`,
        clientId: 'sandbox-paypal-client',
        clientSecret: 'secret',
      },
    });

  it('accepts on verification_status SUCCESS, with one token for many calls', async () => {
    const verifier = online();
    const before = await fx.control.callCount('paypal.token');
    const got = await fx.capture('paypal', {
      webhookId: WEBHOOK_ID,
      events: [{ type: 'PAYMENT.CAPTURE.COMPLETED' }, { type: 'PAYMENT.CAPTURE.REFUNDED' }],
    });
    const results = await Promise.all(got.map((r) => verifier.verify(r)));
    expect(results.map((r) => r.ok)).toEqual([true, true]);
    expect(await fx.control.callCount('paypal.token')).toBe(before + 1);
  });

  it('rejects on verification_status FAILURE as bad_signature', async () => {
    const got = await sendOne();
    expect(await online('ANOTHER-LISTENER').verify(got)).toMatchObject({
      ok: false,
      reason: 'bad_signature',
    });
  });

  it('fetches a new token after a 401 and answers verification_unavailable when PayPal fails', async () => {
    const verifier = online();
    const got = await sendOne();
    expect((await verifier.verify(got)).ok).toBe(true);
    await fx.control.failNext('paypal.verify-webhook-signature', 401);
    expect((await verifier.verify(got)).ok).toBe(true);
    await fx.control.failNext('paypal.verify-webhook-signature', 500);
    expect(await verifier.verify(got)).toMatchObject({ ok: false, reason: 'verification_unavailable' });
  });
});
