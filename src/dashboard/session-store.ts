import { createHash, randomBytes } from 'node:crypto';
import { and, eq, gt, lt } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { dashboardSessions } from '../db/schema.ts';

/**
 * Dashboard sessions in the database, so a sign-in holds on every tether process behind a load
 * balancer and a sign-out ends it everywhere. The browser's cookie is a random id; the row keeps
 * its hash.
 */
export interface DashboardSession {
  csrfToken: string;
  signedInWith: 'api_key' | 'admin_password';
  expiresAt: Date;
}

export const SESSION_LIFETIME_MS = 8 * 60 * 60 * 1000;

const hashOf = (id: string) => createHash('sha256').update(id).digest('base64url');

export function makeSessionStore(db: Db, now: () => Date) {
  return {
    async create(
      signedInWith: DashboardSession['signedInWith'],
    ): Promise<{ id: string; session: DashboardSession }> {
      const id = randomBytes(32).toString('base64url');
      const session = {
        csrfToken: randomBytes(32).toString('base64url'),
        signedInWith,
        expiresAt: new Date(now().getTime() + SESSION_LIFETIME_MS),
      };
      // Sign-ins are rare: pruning here keeps the table at the live sessions without a job.
      await db.delete(dashboardSessions).where(lt(dashboardSessions.expiresAt, now()));
      await db.insert(dashboardSessions).values({ idHash: hashOf(id), ...session });
      return { id, session };
    },

    async find(id: string | undefined): Promise<DashboardSession | undefined> {
      if (!id || id.length > 100) return undefined;
      const [row] = await db
        .select()
        .from(dashboardSessions)
        .where(and(eq(dashboardSessions.idHash, hashOf(id)), gt(dashboardSessions.expiresAt, now())));
      return row
        ? { csrfToken: row.csrfToken, signedInWith: row.signedInWith, expiresAt: row.expiresAt }
        : undefined;
    },

    async remove(id: string | undefined): Promise<void> {
      if (id) await db.delete(dashboardSessions).where(eq(dashboardSessions.idHash, hashOf(id)));
    },
  };
}
export type SessionStore = ReturnType<typeof makeSessionStore>;
