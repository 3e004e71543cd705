import { errors, type JWTPayload, jwtVerify } from 'jose';
import { type JwksCache, makeJwksCache } from './jwks-cache.ts';
import { isRecord, jsonObject, singleHeader, stringField } from './request.ts';
import { accept, type Rejection, reject, type VerifyResult, type WebhookVerifier } from './types.ts';

// Gmail notifications through Pub/Sub authenticated push. The push URL is public, so every
// delivery must carry `Authorization: Bearer <Google-signed OIDC JWT>`, checked in order:
//   RS256 signature against Google's JWKS → iss is Google → aud is our audience → exp, and iat
//   neither in the future nor older than a token lives (1 h), each with a small skew →
//   email is our push service account → email_verified is true.
// Then the body: message.data is base64 (or base64url) JSON {emailAddress, historyId}; the
// dedupe key is message.messageId (Pub/Sub delivers at least once).

export const GOOGLE_JWKS_URL = 'https://www.googleapis.com/oauth2/v3/certs';
const GOOGLE_ISSUERS = ['accounts.google.com', 'https://accounts.google.com'];
export const GMAIL_EVENT_TYPE = 'gmail.notification';

export interface GmailPubsubVerifierOptions {
  /** The push subscription's audience; default: the URL the request was addressed to. */
  audience?: string;
  /** The push subscription's service account (the token's email claim). */
  serviceAccount: string;
  jwksUrl?: string;
  /** Share one cache between integrations (the registry does); default: a cache of its own. */
  jwksCache?: JwksCache;
  /** Skew allowed on exp and iat (default 30 s). */
  clockToleranceSeconds?: number;
}

export interface GmailNotification {
  emailAddress: string;
  /** Always a decimal string, whether Gmail sent a string or a number. */
  historyId: string;
  messageId: string;
  publishTime?: string;
  subscription?: string;
}

export function makeGmailPubsubVerifier(
  options: GmailPubsubVerifierOptions,
): WebhookVerifier<GmailNotification> {
  if (!options.serviceAccount) throw new TypeError('"serviceAccount" must be a non-empty string');
  const jwks = (options.jwksCache ?? makeJwksCache()).get(options.jwksUrl ?? GOOGLE_JWKS_URL);
  const skew = options.clockToleranceSeconds ?? 30;
  const serviceAccount = options.serviceAccount.toLowerCase();

  return {
    source: 'gmail-pubsub',
    async verify(request, now = new Date()): Promise<VerifyResult<GmailNotification>> {
      const header = singleHeader(request.headers, 'Authorization');
      if (!header.ok) return header;
      const token = /^Bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/i.exec(header.value)?.[1];
      if (!token) return reject('malformed_header', 'The Authorization header is not "Bearer <JWT>".');
      const audience = options.audience ?? request.url;
      if (!audience)
        return reject('wrong_audience', 'No audience is configured and the request URL is unknown.');

      let claims: JWTPayload;
      try {
        ({ payload: claims } = await jwtVerify(token, jwks, {
          algorithms: ['RS256'],
          issuer: GOOGLE_ISSUERS,
          audience,
          clockTolerance: skew,
          maxTokenAge: 3600,
          requiredClaims: ['exp', 'iat'],
          currentDate: now,
        }));
      } catch (error) {
        return tokenRejection(error);
      }
      if (typeof claims.email !== 'string' || claims.email.toLowerCase() !== serviceAccount) {
        return reject('wrong_email', 'The token was not issued to the configured push service account.');
      }
      if (claims.email_verified !== true) {
        return reject('wrong_email', 'The token does not say its email is verified.');
      }
      return readNotification(request.rawBody);
    },
  };
}

function tokenRejection(error: unknown): Rejection {
  if (!(error instanceof errors.JOSEError)) {
    return reject('jwks_unavailable', "Google's signing keys could not be fetched.");
  }
  switch (error.code) {
    case 'ERR_JWT_EXPIRED':
      return reject('token_expired', 'The push token has expired.');
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED': {
      const claim = (error as errors.JWTClaimValidationFailed).claim;
      if (claim === 'iss') return reject('wrong_issuer', 'The push token was not issued by Google.');
      if (claim === 'aud') return reject('wrong_audience', 'The push token is for another audience.');
      return reject('token_invalid', `The push token's "${claim}" claim is missing or invalid.`);
    }
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return reject('bad_signature', "The push token's signature does not verify with Google's keys.");
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return reject('bad_signature', 'The push token names a key Google does not publish.');
    case 'ERR_JWKS_TIMEOUT':
    case 'ERR_JWKS_INVALID':
    case 'ERR_JOSE_GENERIC':
      return reject('jwks_unavailable', "Google's signing keys could not be fetched.");
    default:
      return reject('token_invalid', `The push token is not a valid RS256 JWT (${error.code}).`);
  }
}

function readNotification(rawBody: Uint8Array): VerifyResult<GmailNotification> {
  const malformed = (what: string) =>
    reject('malformed_payload', `The body is not a Gmail push message: ${what}.`);
  const body = jsonObject(rawBody);
  const message = body && isRecord(body.message) ? body.message : undefined;
  if (!body || !message) return malformed('no message object');
  const messageId = stringField(message, 'messageId') ?? stringField(message, 'message_id');
  if (!messageId) return malformed('no message.messageId');
  const data = stringField(message, 'data');
  if (!data || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(data)) return malformed('message.data is not base64');

  // historyId may exceed 2^53 as a JSON number: keep its source text (JSON.parse source access).
  const decoded = jsonObject(Buffer.from(data, 'base64'), (key, value, context) =>
    key === 'historyId' && typeof value === 'number' ? (context?.source ?? value) : value,
  );
  const emailAddress = decoded && stringField(decoded, 'emailAddress');
  const historyId = decoded && historyIdOf(decoded.historyId);
  if (!emailAddress || !historyId) return malformed('message.data is not {emailAddress, historyId}');

  return accept(messageId, GMAIL_EVENT_TYPE, {
    emailAddress,
    historyId,
    messageId,
    publishTime: stringField(message, 'publishTime') ?? stringField(message, 'publish_time'),
    subscription: stringField(body, 'subscription'),
  });
}

function historyIdOf(value: unknown): string | undefined {
  if (typeof value === 'string' && /^\d{1,30}$/.test(value)) return value.replace(/^0+(?=\d)/, '');
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value);
  return undefined;
}
