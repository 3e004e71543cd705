import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDocusignConnectVerifier } from './docusign-connect.ts';
import { startWebhookFixture, tamper, type WebhookFixture } from './testing.ts';
import type { WebhookRequest } from './types.ts';

const OLD_KEY = 'connect-key-old-8f1c2e';
const NEW_KEY = 'connect-key-new-41aa9d';

let fx: WebhookFixture;
beforeAll(async () => {
  fx = await startWebhookFixture();
});
afterAll(() => fx.close());

const sendOne = async (keys: string[], extra: { envelopeId?: string; generatedDateTime?: string } = {}) => {
  const [got] = await fx.capture('docusign-connect', {
    keys,
    events: [{ event: 'envelope-completed', ...extra }],
  });
  return got!;
};

const signatureHeaders = (request: WebhookRequest) =>
  Object.keys(request.headers).filter((name) => name.startsWith('x-docusign-signature-'));

describe('DocuSign Connect verifier', () => {
  it('accepts a sandbox delivery and answers envelopeId|event|generatedDateTime as its id', async () => {
    const got = await sendOne([NEW_KEY], {
      envelopeId: '3f2a0e6c-8a64-4c39-9a57-3a1b6f0f6b11',
      generatedDateTime: '2025-06-01T12:00:00.000Z',
    });
    const result = await makeDocusignConnectVerifier({ keys: [NEW_KEY] }).verify(got);
    expect(result).toMatchObject({
      ok: true,
      eventId: '3f2a0e6c-8a64-4c39-9a57-3a1b6f0f6b11|envelope-completed|2025-06-01T12:00:00.000Z',
      eventType: 'envelope-completed',
    });
  });

  it('accepts when any of several signature headers matches any configured key', async () => {
    const got = await sendOne([OLD_KEY, NEW_KEY]);
    expect(signatureHeaders(got)).toEqual(['x-docusign-signature-1', 'x-docusign-signature-2']);
    for (const keys of [[OLD_KEY], [NEW_KEY], [NEW_KEY, OLD_KEY], ['unrelated', NEW_KEY]]) {
      expect((await makeDocusignConnectVerifier({ keys }).verify(got)).ok, keys.join()).toBe(true);
    }
  });

  it('accepts either key during a rotation, whichever one DocuSign signs with', async () => {
    const rotating = makeDocusignConnectVerifier({ keys: [OLD_KEY, NEW_KEY] });
    expect((await rotating.verify(await sendOne([OLD_KEY]))).ok).toBe(true);
    expect((await rotating.verify(await sendOne([NEW_KEY]))).ok).toBe(true);
  });

  it('rejects a delivery signed with another key, and a tampered body, as bad_signature', async () => {
    const got = await sendOne([OLD_KEY]);
    const verifier = makeDocusignConnectVerifier({ keys: [NEW_KEY] });
    expect(await verifier.verify(got)).toMatchObject({ ok: false, reason: 'bad_signature' });
    const body = Buffer.from(got.rawBody).toString().replace('"retryCount":0', '"retryCount":1');
    const own = makeDocusignConnectVerifier({ keys: [OLD_KEY] });
    expect(await own.verify(tamper(got, { body }))).toMatchObject({ ok: false, reason: 'bad_signature' });
  });

  it('rejects signatures of another length or not base64 at all without throwing', async () => {
    const got = await sendOne([NEW_KEY]);
    const verifier = makeDocusignConnectVerifier({ keys: [NEW_KEY] });
    const real = String(got.headers['x-docusign-signature-1']);
    for (const signature of [
      '',
      'AA==',
      real.slice(0, -4),
      `${real}AAAA`,
      '!!!not*base64!!!',
      'é'.repeat(44),
      real.toLowerCase(),
    ]) {
      const result = await verifier.verify(tamper(got, { headers: { 'x-docusign-signature-1': signature } }));
      expect(result, signature).toMatchObject({ ok: false, reason: 'bad_signature' });
    }
  });

  it('rejects a delivery without any signature header as missing_header', async () => {
    const unsigned = await sendOne([]);
    expect(signatureHeaders(unsigned)).toEqual([]);
    const result = await makeDocusignConnectVerifier({ keys: [NEW_KEY] }).verify(unsigned);
    expect(result).toMatchObject({ ok: false, reason: 'missing_header' });
  });

  it('reads headers in any case and repeated as arrays', async () => {
    const body =
      '{"event":"envelope-sent","generatedDateTime":"2025-01-01T00:00:00Z","data":{"envelopeId":"e1"}}';
    const sig = createHmac('sha256', NEW_KEY).update(body).digest('base64');
    const verifier = makeDocusignConnectVerifier({ keys: [NEW_KEY] });
    const request = (headers: WebhookRequest['headers']) => ({ rawBody: Buffer.from(body), headers });
    expect((await verifier.verify(request({ 'X-DocuSign-Signature-7': sig }))).ok).toBe(true);
    expect((await verifier.verify(request({ 'x-docusign-signature-1': ['bogus', sig] }))).ok).toBe(true);
  });

  it('rejects a signed body without the Connect fields as malformed_payload', async () => {
    for (const raw of [
      '<xml/>',
      '{"event":"envelope-sent"}',
      '{"event":"x","generatedDateTime":"t","data":{}}',
    ]) {
      const [got] = await fx.capture('docusign-connect', { keys: [NEW_KEY], raw: [raw] });
      const result = await makeDocusignConnectVerifier({ keys: [NEW_KEY] }).verify(got!);
      expect(result, raw).toMatchObject({ ok: false, reason: 'malformed_payload' });
    }
  });
});
