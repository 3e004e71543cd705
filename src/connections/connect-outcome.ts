import { inArray } from 'drizzle-orm';
import { connectSessions } from '../db/schema.ts';

/**
 * How a connect session ends: the allowed status moves (the state machine is described in
 * connect-flow.ts). The codes of the ways it fails are the connect outcome codes in errors.ts.
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
