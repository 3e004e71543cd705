import { and, eq, isNull, lt, or, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { type ConnectionRow, connections } from '../db/schema.ts';

/**
 * The refresh lease: at most one refresher per connection, across every
 * process on the database.
 *
 * States of a connection row: free (no owner, or the lease ran out) → leased
 * (owner + until) → free again, written by the same statement that stores
 * the refreshed credentials or records the failure (refresh-writes.ts,
 * grant-lost.ts), each conditional on `heldBy`: a holder whose lease ran out
 * and was taken over changes nothing. Taking
 * the lease is one conditional UPDATE, so two processes can never both hold
 * it. No transaction stays open during the provider call (a PGlite
 * transaction would block every other query): if the holder dies, the lease
 * simply expires and the next caller takes it over, with the refresh token
 * that is still stored, so no token is lost.
 */
export async function tryAcquireLease(
  db: Db,
  id: string,
  owner: string,
  leaseMs: number,
): Promise<ConnectionRow | null> {
  const [row] = await db
    .update(connections)
    .set({ refreshLeaseOwner: owner, refreshLeaseUntil: sql`now() + ${`${leaseMs} milliseconds`}::interval` })
    .where(
      and(
        eq(connections.id, id),
        or(isNull(connections.refreshLeaseUntil), lt(connections.refreshLeaseUntil, sql`now()`)),
      ),
    )
    .returning();
  return row ?? null;
}

export async function releaseLease(db: Db, id: string, owner: string): Promise<void> {
  await db
    .update(connections)
    .set({ refreshLeaseOwner: null, refreshLeaseUntil: null })
    .where(and(eq(connections.id, id), eq(connections.refreshLeaseOwner, owner)));
}

/** Condition for writes that finish a refresh: only the lease holder may. */
export function heldBy(id: string, owner: string) {
  return and(eq(connections.id, id), eq(connections.refreshLeaseOwner, owner));
}
