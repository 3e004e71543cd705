import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SendBody } from '../../sandbox/webhooks/index.ts';
import { type GmailPubsubVerifierOptions, makeGmailPubsubVerifier } from './gmail-pubsub.ts';
import { makeJwksCache } from './jwks-cache.ts';
import { startWebhookFixture, tamper, type WebhookFixture } from './testing.ts';

const SERVICE_ACCOUNT = 'gmail-push@tether-tests.iam.gserviceaccount.com';
const AUDIENCE = 'https://tether.example/webhooks/gmail-main';
const nowSeconds = () => Math.floor(Date.now() / 1000);

let fx: WebhookFixture;
let jwksUrl: string;
beforeAll(async () => {
  fx = await startWebhookFixture();
  jwksUrl = fx.config.gmailPubsub.jwksUrl;
});
afterAll(() => fx.close());

const verifierFor = (extra: Partial<GmailPubsubVerifierOptions> = {}) =>
  makeGmailPubsubVerifier({ audience: AUDIENCE, serviceAccount: SERVICE_ACCOUNT, jwksUrl, ...extra });

type PushOptions = Omit<SendBody<'gmail-pubsub'>, 'target' | 'events' | 'raw'>;
const push = async (options: PushOptions = {}, raw?: string) => {
  const [got] = await fx.capture('gmail-pubsub', {
    audience: AUDIENCE,
    serviceAccount: SERVICE_ACCOUNT,
    ...options,
    ...(raw === undefined
      ? {
          events: [
            { emailAddress: 'grace@example.com', historyId: '9876543210', messageId: '2070443601311540' },
          ],
        }
      : { raw: [raw] }),
  });
  return got!;
};

const rawPush = (data: string, messageId = '17') =>
  JSON.stringify({
    message: { data, messageId, publishTime: '2025-06-01T12:00:00Z' },
    subscription: 'projects/p/subscriptions/s',
  });

describe('Gmail Pub/Sub verifier', () => {
  it('accepts an authenticated push and answers emailAddress, historyId and messageId', async () => {
    const result = await verifierFor().verify(await push());
    expect(result).toMatchObject({
      ok: true,
      eventId: '2070443601311540',
      eventType: 'gmail.notification',
      payload: { emailAddress: 'grace@example.com', historyId: '9876543210', messageId: '2070443601311540' },
    });
  });

  it('uses the request URL as the audience when none is configured', async () => {
    const got = await push({ audience: undefined });
    expect((await verifierFor({ audience: undefined }).verify(got)).ok).toBe(true);
    expect(await verifierFor({ audience: undefined }).verify({ ...got, url: undefined })).toMatchObject({
      reason: 'wrong_audience',
    });
  });

  it.each([
    ['a wrong audience', 'wrong_audience', { claims: { aud: 'https://elsewhere.example/push' } }],
    ['a wrong issuer', 'wrong_issuer', { claims: { iss: 'https://evil.example' } }],
    ['another service account', 'wrong_email', { serviceAccount: 'someone@else.iam.gserviceaccount.com' }],
    ['email_verified false', 'wrong_email', { claims: { email_verified: false } }],
    ['no email_verified claim', 'wrong_email', { claims: { email_verified: null } }],
    ['an expired token', 'token_expired', { claims: { iat: nowSeconds() - 7200, exp: nowSeconds() - 3600 } }],
    [
      'a token issued in the future',
      'token_invalid',
      { claims: { iat: nowSeconds() + 600, exp: nowSeconds() + 4200 } },
    ],
    ['a token without iat', 'token_invalid', { claims: { iat: null } }],
    ['a token signed by the rogue key', 'bad_signature', { signWith: 'rogue' }],
    ['a token under an unknown kid', 'bad_signature', { signWith: 'rogue', kid: 'f'.repeat(40) }],
    ['no Authorization header', 'missing_header', { unauthenticated: true }],
  ] as const)('rejects %s as %s', async (_label, reason, options) => {
    const result = await verifierFor().verify(await push(options as PushOptions));
    expect(result).toMatchObject({ ok: false, reason });
  });

  it.each(['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer not-a-jwt', 'Bearer a.b'])(
    'rejects the Authorization header %j as malformed_header',
    async (authorization) => {
      const got = await push();
      expect(await verifierFor().verify(tamper(got, { headers: { authorization } }))).toMatchObject({
        ok: false,
        reason: 'malformed_header',
      });
    },
  );

  it('rejects a well-formed but garbage JWT as token_invalid', async () => {
    const got = await push();
    const authorization = 'Bearer eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.c2ln';
    expect(await verifierFor().verify(tamper(got, { headers: { authorization } }))).toMatchObject({
      ok: false,
      reason: 'token_invalid',
    });
  });

  it('decodes base64url data and keeps a numeric historyId beyond 2^53 exactly', async () => {
    const data = Buffer.from('{"emailAddress":"ü>?~@example.com","historyId":98765432109876543210}').toString(
      'base64url',
    );
    expect(data).toMatch(/[-_]/);
    const result = await verifierFor().verify(await push({}, rawPush(data)));
    expect(result).toMatchObject({
      ok: true,
      eventId: '17',
      payload: { emailAddress: 'ü>?~@example.com', historyId: '98765432109876543210' },
    });
  });

  it.each([
    ['no message', '{"subscription":"s"}'],
    ['no messageId', JSON.stringify({ message: { data: 'e30=' } })],
    ['data that is not base64', rawPush('%%%')],
    ['data without historyId', rawPush(Buffer.from('{"emailAddress":"a@b.c"}').toString('base64'))],
    [
      'a fractional historyId',
      rawPush(Buffer.from('{"emailAddress":"a@b.c","historyId":1.5}').toString('base64')),
    ],
    ['a body that is not JSON', 'hello'],
  ])('rejects an authenticated push with %s as malformed_payload', async (_label, raw) => {
    expect(await verifierFor().verify(await push({}, raw))).toMatchObject({
      ok: false,
      reason: 'malformed_payload',
    });
  });

  it('fetches the JWKS once per URL across verifiers sharing a cache', async () => {
    const cache = makeJwksCache();
    const got = await Promise.all([push(), push(), push()]);
    const before = await fx.control.callCount('google.jwks');
    const a = verifierFor({ jwksCache: cache });
    const b = verifierFor({ jwksCache: cache });
    const results = await Promise.all([...got.map((r) => a.verify(r)), ...got.map((r) => b.verify(r))]);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(await fx.control.callCount('google.jwks')).toBe(before + 1);
  });

  it('answers jwks_unavailable when Google’s keys cannot be fetched', async () => {
    const got = await push();
    await fx.control.failNext('google.jwks', 503);
    expect(await verifierFor({ jwksCache: makeJwksCache() }).verify(got)).toMatchObject({
      ok: false,
      reason: 'jwks_unavailable',
    });
    const nowhere = verifierFor({ jwksUrl: 'http://127.0.0.1:9/certs', jwksCache: makeJwksCache() });
    expect(await nowhere.verify(got)).toMatchObject({ ok: false, reason: 'jwks_unavailable' });
  });
});
