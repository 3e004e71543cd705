import { inArray } from 'drizzle-orm';
import { type ConnectionStatus, connections } from '../db/schema.ts';

/**
 * A connection's status, as a state machine. The only moves:
 *
 *   refreshed     connected | degraded                           → connected
 *   refreshFailed connected | degraded                           → degraded   (a passing failure, backoff)
 *   grantLost     connected | degraded                           → reauthorization_required (credentials wiped)
 *   disconnected  connected | degraded | reauthorization_required → disconnected
 *   connected     any (a first connect is an insert)             → connected  (the end user connects again)
 *
 * Every UPDATE of connections.status sets `statusAfter(move)` and matches
 * `movableBy(move)`, so a write that lost a race (a late refresher after a
 * disconnect, a grant-lost write after a reconnect) changes nothing; callers
 * handle zero rows updated.
 */
const ALL: readonly ConnectionStatus[] = [
  'connected',
  'degraded',
  'reauthorization_required',
  'disconnected',
];

export const CONNECTION_MOVES = {
  refreshed: { from: ['connected', 'degraded'], to: 'connected' },
  refreshFailed: { from: ['connected', 'degraded'], to: 'degraded' },
  grantLost: { from: ['connected', 'degraded'], to: 'reauthorization_required' },
  disconnected: { from: ['connected', 'degraded', 'reauthorization_required'], to: 'disconnected' },
  connected: { from: ALL, to: 'connected' },
} as const satisfies Record<string, { from: readonly ConnectionStatus[]; to: ConnectionStatus }>;

export type ConnectionMove = keyof typeof CONNECTION_MOVES;

/** The `status` column value a move writes. */
export function statusAfter(move: ConnectionMove): { status: ConnectionStatus } {
  return { status: CONNECTION_MOVES[move].to };
}

/** The WHERE condition of a move: the row is in one of the move's from-states. */
export function movableBy(move: ConnectionMove) {
  return inArray(connections.status, [...CONNECTION_MOVES[move].from]);
}

/** Whether some move takes a connection from `from` to `to`. */
export function canMove(from: ConnectionStatus, to: ConnectionStatus): boolean {
  return Object.values(CONNECTION_MOVES).some(
    (move) => move.to === to && (move.from as readonly ConnectionStatus[]).includes(from),
  );
}
