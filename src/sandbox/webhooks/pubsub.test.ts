import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeGmailPushBody, mintPushToken } from './pubsub.ts';
import { makeWebhookSenderState, type WebhookSenderState } from './sender-state.ts';
import { type SandboxServer, startSandbox } from './test-support.ts';

const AUDIENCE = 'http://127.0.0.1:3000/webhooks/gmail';
const SERVICE_ACCOUNT = 'push@tether-demo.iam.gserviceaccount.com';

let state: WebhookSenderState;
let sandbox: SandboxServer;
let verifyHonestly: (token: string) => Promise<unknown>;

beforeAll(async () => {
  state = await makeWebhookSenderState();
  sandbox = await startSandbox({ state });
  const jwks = createRemoteJWKSet(new URL(`${sandbox.sandboxUrl}/google/oauth2/v3/certs`));
  // An honest verifier, as the facts file lists the checks.
  verifyHonestly = async (token) => {
    const { payload } = await jwtVerify(token, jwks, {
      algorithms: ['RS256'],
      issuer: ['accounts.google.com', 'https://accounts.google.com'],
      audience: AUDIENCE,
      clockTolerance: 30,
      requiredClaims: ['exp', 'iat'],
    });
    if (payload.email !== SERVICE_ACCOUNT) throw new Error('wrong email');
    if (payload.email_verified !== true) throw new Error('email not verified');
    return payload;
  };
});
afterAll(() => sandbox.close());

const mint = (overrides: Partial<Parameters<typeof mintPushToken>[1]> = {}) =>
  mintPushToken(state.pushKeys, { audience: AUDIENCE, serviceAccount: SERVICE_ACCOUNT, ...overrides });

describe('Pub/Sub push token', () => {
  it('verifies against the served JWKS with Google-shaped claims', async () => {
    const payload = await verifyHonestly(await mint());
    expect(payload).toMatchObject({
      iss: 'https://accounts.google.com',
      aud: AUDIENCE,
      email: SERVICE_ACCOUNT,
      email_verified: true,
      sub: expect.stringMatching(/^\d{21}$/),
    });
    const { iat, exp } = payload as { iat: number; exp: number };
    expect(exp - iat).toBe(3600);
  });

  it.each([
    ['a wrong audience', { claims: { aud: 'https://elsewhere.example/push' } }, /aud/],
    ['a wrong issuer', { claims: { iss: 'https://evil.example' } }, /iss/],
    ['another service account', { serviceAccount: 'someone@else.iam.gserviceaccount.com' }, /wrong email/],
    ['an unverified email', { claims: { email_verified: false } }, /not verified/],
    ['a missing email_verified claim', { claims: { email_verified: null } }, /not verified/],
    ['an expired token', { now: new Date(Date.now() - 2 * 3600_000) }, /exp/],
    ['a token signed by an unpublished key', { signWith: 'rogue' as const }, /signature/],
    [
      'a token under an unknown kid',
      { signWith: 'rogue' as const, kid: 'f'.repeat(40) },
      /no applicable key|matching/i,
    ],
  ])('is rejected by an honest verifier for %s', async (_label, overrides, error) => {
    await expect(verifyHonestly(await mint(overrides))).rejects.toThrow(error);
  });
});

describe('Gmail push body', () => {
  it('carries base64 JSON {emailAddress, historyId} and both messageId spellings', () => {
    const body = makeGmailPushBody({ emailAddress: 'user@example.com', historyId: '9876543210', seed: 1 });
    expect(body.message.messageId).toMatch(/^\d{16}$/);
    expect(body.message.message_id).toBe(body.message.messageId);
    expect(body.subscription).toMatch(/^projects\/[^/]+\/subscriptions\/[^/]+$/);
    expect(JSON.parse(Buffer.from(body.message.data, 'base64').toString())).toEqual({
      emailAddress: 'user@example.com',
      historyId: '9876543210',
    });
  });

  it('can encode data as base64url, which receivers must also accept', () => {
    const email = 'ü>?~~~@example.com';
    expect(Buffer.from(JSON.stringify({ emailAddress: email, historyId: 1 })).toString('base64')).toMatch(
      /[+/=]/,
    );
    const body = makeGmailPushBody({ emailAddress: email, historyId: 1, dataEncoding: 'base64url' });
    expect(body.message.data).not.toMatch(/[+/=]/);
    expect(JSON.parse(Buffer.from(body.message.data, 'base64url').toString()).emailAddress).toBe(email);
  });
});
