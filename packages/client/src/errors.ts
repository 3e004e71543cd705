import type { components } from './api.d.ts';

/** Every code tether answers in its error shape (docs/errors.md), as a union. */
export type ErrorCode = components['schemas']['Error']['error']['code'];

/** A tether answer that was not a success: its status, stable code and message. */
export class TetherError extends Error {
  readonly status: number;
  readonly code: ErrorCode | 'unexpected_response';
  /** From Retry-After, when tether sent one (429, 503). */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    status: number,
    code: ErrorCode | 'unexpected_response',
    message: string,
    retryAfter?: string | null,
  ) {
    super(message);
    this.name = 'TetherError';
    this.status = status;
    this.code = code;
    const seconds = retryAfter ? Number(retryAfter) : Number.NaN;
    this.retryAfterSeconds = Number.isFinite(seconds) ? seconds : undefined;
  }
}

export function isTetherError(value: unknown, code?: ErrorCode): value is TetherError {
  return value instanceof TetherError && (code === undefined || value.code === code);
}

/** The TetherError for a failed answer: tether's own error shape, or a plain one for anything else. */
export function errorFrom(response: Response, body: unknown): TetherError {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  const retryAfter = response.headers.get('retry-after');
  if (typeof error?.code === 'string' && typeof error.message === 'string') {
    return new TetherError(response.status, error.code as ErrorCode, error.message, retryAfter);
  }
  return new TetherError(
    response.status,
    'unexpected_response',
    `tether answered ${response.status}`,
    retryAfter,
  );
}
