import { inArray } from 'drizzle-orm';
import { connectSessions } from '../db/schema.ts';

/**
 * How a connect session ends: the allowed status moves (the state machine is described in
 * connect-flow.ts) and the codes of the ways it fails.
 */
type SessionStatus = (typeof connectSessions.$inferSelect)['status'];

/** The allowed moves: target status ← the statuses it may come from. */
const SESSION_MOVES = {
  authorizing: ['pending', 'authorizing'],
  completed: ['authorizing'],
  failed: ['authorizing'],
  expired: ['pending', 'authorizing'],
} as const satisfies Record<Exclude<SessionStatus, 'pending'>, readonly SessionStatus[]>;

/** The WHERE condition that lets an UPDATE make this move only from an allowed status. */
export const movableTo = (to: keyof typeof SESSION_MOVES) =>
  inArray(connectSessions.status, [...SESSION_MOVES[to]]);

/** The connect outcome codes (docs/errors.md): on the page, the session and the redirectUrl. */
export const CONNECT_FAILURE_CODES = [
  'access_denied',
  'provider_error',
  'missing_code',
  'exchange_failed',
  'session_expired',
  'session_used',
  'unknown_session',
  'browser_mismatch',
  'missing_state',
  'state_unknown',
  'state_reused',
] as const;
export type ConnectFailureCode = (typeof CONNECT_FAILURE_CODES)[number];

/**
 * A failure of the flow. With returnTo the person is sent back to the app's redirectUrl;
 * without it they see a page.
 */
export class ConnectFlowError extends Error {
  readonly code: ConnectFailureCode;
  readonly status: number;
  readonly returnTo: string | undefined;
  constructor(code: ConnectFailureCode, status: number, message: string, returnTo?: string) {
    super(message);
    this.code = code;
    this.status = status;
    this.returnTo = returnTo;
  }
}
