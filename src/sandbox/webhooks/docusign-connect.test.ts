import { createHmac, timingSafeEqual } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DOCUSIGN_EVENTS, makeConnectOutbound, makeConnectPayload } from './docusign-connect.ts';

// Written from DocuSign's published scheme, independently of docusign-connect.ts: any
// X-DocuSign-Signature-N header matching HMAC-SHA256(key, raw body), base64, for any key.
function verifyByHand(headers: Record<string, string>, raw: string, keys: string[]): boolean {
  const given = Object.entries(headers)
    .filter(([name]) => /^x-docusign-signature-\d+$/i.test(name))
    .map(([, value]) => Buffer.from(value, 'base64'));
  return keys.some((key) => {
    const expected = createHmac('sha256', key).update(raw).digest();
    return given.some((g) => g.length === expected.length && timingSafeEqual(g, expected));
  });
}

const at = new Date('2026-03-01T12:00:00.000Z');

describe('DocuSign Connect signer', () => {
  it('signs the raw body so a hand-written HMAC check passes', async () => {
    const delivery = await makeConnectOutbound(makeConnectPayload('envelope-completed'), {
      keys: ['key-one'],
    }).build({
      attempt: 1,
      now: at,
    });
    expect(Object.keys(delivery.headers)).toContain('x-docusign-signature-1');
    expect(verifyByHand(delivery.headers, delivery.body, ['key-one'])).toBe(true);
    expect(verifyByHand(delivery.headers, delivery.body, ['key-two'])).toBe(false);
    expect(verifyByHand(delivery.headers, delivery.body.replace('completed', 'voided'), ['key-one'])).toBe(
      false,
    );
  });

  it('sends one header per active key during a rotation', async () => {
    const delivery = await makeConnectOutbound(makeConnectPayload('envelope-sent'), {
      keys: ['old', 'new'],
    }).build({
      attempt: 1,
      now: at,
    });
    expect(delivery.headers['x-docusign-signature-2']).toBeDefined();
    expect(verifyByHand(delivery.headers, delivery.body, ['old'])).toBe(true);
    expect(verifyByHand(delivery.headers, delivery.body, ['new'])).toBe(true);
  });

  it('bumps retryCount on a retry and re-signs, keeping the dedupe key', async () => {
    const outbound = makeConnectOutbound(
      makeConnectPayload('envelope-delivered', { generatedDateTime: at }),
      {
        keys: ['k'],
      },
    );
    const first = await outbound.build({ attempt: 1, now: at });
    const third = await outbound.build({ attempt: 3, now: at });
    expect(JSON.parse(first.body).retryCount).toBe(0);
    expect(JSON.parse(third.body).retryCount).toBe(2);
    expect(third.headers['x-docusign-signature-1']).not.toBe(first.headers['x-docusign-signature-1']);
    expect(verifyByHand(third.headers, third.body, ['k'])).toBe(true);
    const p = JSON.parse(third.body);
    expect(outbound.dedupeKey).toBe(`${p.data.envelopeId}|envelope-delivered|${p.generatedDateTime}`);
  });
});

describe('DocuSign Connect payloads', () => {
  it.each(DOCUSIGN_EVENTS)('builds a JSON SIM %s message', (event) => {
    const payload = makeConnectPayload(event, { seed: 3, generatedDateTime: at });
    expect(payload).toMatchObject({
      event,
      apiVersion: 'v2.1',
      retryCount: 0,
      generatedDateTime: at.toISOString(),
    });
    expect(payload.uri).toBe(
      `/restapi/v2.1/accounts/${payload.data.accountId}/envelopes/${payload.data.envelopeId}`,
    );
    expect(payload.data.envelopeSummary.envelopeId).toBe(payload.data.envelopeId);
    expect(makeConnectPayload(event, { seed: 3, generatedDateTime: at })).toEqual(payload);
  });

  it('maps recipient-completed to the signed status and terminal events to theirs', () => {
    expect(makeConnectPayload('recipient-completed').data.envelopeSummary.status).toBe('signed');
    expect(makeConnectPayload('envelope-voided').data.envelopeSummary).toMatchObject({
      status: 'voided',
      voidedReason: expect.any(String),
    });
  });
});
