// Why a token request failed, as one stable reason, with the RFC 6749 error and status it maps
// to. Providers render a failure in their own shape, and may word the description their way.

export type TokenErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type';

export type TokenFailureReason =
  | 'body_not_accepted'
  | 'client_missing'
  | 'client_auth_method'
  | 'client_unknown'
  | 'grant_type_unsupported'
  | 'code_missing'
  | 'code_unknown'
  | 'code_used'
  | 'code_expired'
  | 'code_client_mismatch'
  | 'redirect_mismatch'
  | 'pkce_missing'
  | 'pkce_mismatch'
  | 'refresh_missing'
  | 'refresh_unknown'
  | 'refresh_expired'
  | 'refresh_revoked'
  | 'refresh_reused'
  | 'refresh_client_mismatch';

export interface TokenFailure {
  status: 400 | 401;
  error: TokenErrorCode;
  reason: TokenFailureReason;
  description: string;
}

const TABLE: Record<TokenFailureReason, [400 | 401, TokenErrorCode, string]> = {
  body_not_accepted: [400, 'invalid_request', 'The request body is not in a format this endpoint accepts.'],
  client_missing: [401, 'invalid_client', 'Client authentication is missing.'],
  client_auth_method: [401, 'invalid_client', 'This client authentication method is not supported.'],
  client_unknown: [401, 'invalid_client', 'The OAuth client was not found or its secret is wrong.'],
  grant_type_unsupported: [400, 'unsupported_grant_type', 'The grant_type is missing or not supported.'],
  code_missing: [400, 'invalid_request', 'Missing required parameter: code.'],
  code_unknown: [400, 'invalid_grant', 'The authorization code is invalid.'],
  code_used: [400, 'invalid_grant', 'The authorization code has already been used.'],
  code_expired: [400, 'invalid_grant', 'The authorization code has expired.'],
  code_client_mismatch: [400, 'invalid_grant', 'The authorization code was issued to another client.'],
  redirect_mismatch: [400, 'invalid_grant', 'The redirect_uri does not match the authorization request.'],
  pkce_missing: [400, 'invalid_grant', 'Missing code verifier.'],
  pkce_mismatch: [400, 'invalid_grant', 'Invalid code verifier.'],
  refresh_missing: [400, 'invalid_request', 'Missing required parameter: refresh_token.'],
  refresh_unknown: [400, 'invalid_grant', 'The refresh token is invalid.'],
  refresh_expired: [400, 'invalid_grant', 'The refresh token has expired.'],
  refresh_revoked: [400, 'invalid_grant', 'The refresh token has been revoked.'],
  refresh_reused: [400, 'invalid_grant', 'The refresh token has already been used.'],
  refresh_client_mismatch: [400, 'invalid_grant', 'The refresh token was issued to another client.'],
};

export function tokenFailure(reason: TokenFailureReason): TokenFailure {
  const [status, error, description] = TABLE[reason];
  return { status, error, reason, description };
}
