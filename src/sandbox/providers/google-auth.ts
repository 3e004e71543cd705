import type { FastifyRequest } from 'fastify';
import { bearerToken, type ProviderReply } from '../http.ts';
import { checkAccessToken } from '../oauth/bearer.ts';
import type { SandboxState } from '../state.ts';
import { unauthenticated } from './google-errors.ts';

// The Google account an API call acts as: its bearer token's grant, or Google's 401.

export type GoogleCaller =
  | { ok: true; accountId: string; email: string }
  | { ok: false; reply: ProviderReply };

export function googleCaller(state: SandboxState, request: FastifyRequest): GoogleCaller {
  const check = checkAccessToken(state, 'google', bearerToken(request));
  if (!check.ok) return { ok: false, reply: unauthenticated() };
  const user = state.accounts.google.find((u) => u.sub === check.grant.accountId);
  if (!user) return { ok: false, reply: unauthenticated() };
  return { ok: true, accountId: user.sub, email: user.email };
}

/** A query's integer parameter within [1, max] (larger values are capped, as Google does), or a 400. */
export function readPageSize(
  raw: unknown,
  fallback: number,
  max: number,
  name: string,
  invalid: (message: string) => ProviderReply,
): number | ProviderReply {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) return invalid(`Invalid value for "${name}": ${raw}`);
  return Math.min(value, max);
}

export const isReply = (value: unknown): value is ProviderReply =>
  typeof value === 'object' && value !== null && 'status' in value && 'body' in value;

/** Opaque page and sync tokens: base64url JSON, read back with a check of their shape. */
export function encodeToken(value: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeToken(token: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
