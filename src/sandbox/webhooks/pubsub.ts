import { createHash } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Outbound } from './delivery.ts';
import type { PushSigningKeys } from './pubsub-keys.ts';
import { makeRandom } from './random.ts';

// Google Pub/Sub authenticated push, as Gmail `users.watch` notifications arrive:
// `Authorization: Bearer <Google-signed OIDC JWT>` and a JSON envelope whose message.data is
// base64 JSON {emailAddress, historyId}. Every claim can be overridden (null drops it) so
// tests can build the tokens an honest verifier must reject.

export const DEFAULT_PUSH_SERVICE_ACCOUNT = 'pubsub-push@tether-sandbox.iam.gserviceaccount.com';

export interface PushTokenClaims {
  iss: string;
  aud: string | string[];
  azp: string;
  email: string;
  email_verified: boolean;
  iat: number;
  exp: number;
  sub: string;
}

export interface MintPushTokenOptions {
  /** The subscription's configured audience (by default the push endpoint URL). */
  audience: string;
  serviceAccount?: string;
  now?: Date;
  /** Per-claim overrides; null removes the claim. */
  claims?: { [K in keyof PushTokenClaims]?: PushTokenClaims[K] | null };
  /** 'rogue' signs with the unpublished key (under the published kid unless `kid` is given). */
  signWith?: 'current' | 'rogue';
  kid?: string;
}

export async function mintPushToken(keys: PushSigningKeys, options: MintPushTokenOptions): Promise<string> {
  const email = options.serviceAccount ?? DEFAULT_PUSH_SERVICE_ACCOUNT;
  const sub = numericId(email);
  const iat = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const claims: Record<string, unknown> = {
    aud: options.audience,
    azp: sub,
    email,
    email_verified: true,
    exp: iat + 3600,
    iat,
    iss: 'https://accounts.google.com',
    sub,
  };
  for (const [name, value] of Object.entries(options.claims ?? {})) {
    if (value === null) delete claims[name];
    else if (value !== undefined) claims[name] = value;
  }
  const key = options.signWith === 'rogue' ? keys.rogue : keys.current;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: options.kid ?? keys.current.kid, typ: 'JWT' })
    .sign(key.privateKey);
}

export interface GmailPushBodyOptions {
  emailAddress: string;
  historyId: string | number;
  messageId?: string;
  publishTime?: Date;
  subscription?: string;
  /** Pub/Sub sends base64; receivers should also accept base64url. */
  dataEncoding?: 'base64' | 'base64url';
  seed?: string | number;
}

export interface PushBody {
  message: {
    attributes: Record<string, string>;
    data: string;
    messageId: string;
    message_id: string;
    publishTime: string;
    publish_time: string;
  };
  subscription: string;
}

export function makeGmailPushBody(options: GmailPushBodyOptions): PushBody {
  const messageId = options.messageId ?? makeRandom(options.seed).digits(16);
  const publishTime = (options.publishTime ?? new Date()).toISOString();
  const data = Buffer.from(
    JSON.stringify({ emailAddress: options.emailAddress, historyId: options.historyId }),
    'utf8',
  ).toString(options.dataEncoding ?? 'base64');
  return {
    message: {
      attributes: {},
      data,
      messageId,
      message_id: messageId,
      publishTime,
      publish_time: publishTime,
    },
    subscription: options.subscription ?? 'projects/tether-sandbox/subscriptions/gmail-push',
  };
}

export type PubsubOutboundOptions = Omit<MintPushTokenOptions, 'now'> & {
  keys: PushSigningKeys;
  /** Omit the Authorization header: an unauthenticated push (or a forgery). */
  unauthenticated?: boolean;
};

/** The body (and its messageId, the dedupe key) is identical on every attempt; each attempt carries a fresh token. */
export function makePubsubOutbound(body: PushBody | string, options: PubsubOutboundOptions): Outbound {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  return {
    source: 'gmail-pubsub',
    dedupeKey: typeof body === 'string' ? readMessageId(body) : body.message.messageId,
    build: async ({ now }) => {
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'user-agent': 'APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)',
      };
      if (!options.unauthenticated) {
        headers.authorization = `Bearer ${await mintPushToken(options.keys, { ...options, now })}`;
      }
      return { method: 'POST', headers, body: raw };
    },
  };
}

function readMessageId(raw: string): string {
  try {
    const id = (JSON.parse(raw) as Partial<PushBody>).message?.messageId;
    return typeof id === 'string' ? id : '';
  } catch {
    return '';
  }
}

/** A stable 21-digit numeric id for a service account, like Google's `sub`. */
function numericId(email: string): string {
  const digest = createHash('sha256').update(email).digest();
  return `1${(digest.readBigUInt64BE(0) % 10n ** 20n).toString().padStart(20, '0')}`;
}
