import { eq } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../db/client.ts';
import { connectSessions } from '../db/schema.ts';
import { AppError } from '../errors.ts';

/**
 * A connect session as the app sees it: its outcome. pending until the person finishes (or the
 * session expires); connected with the connection id; failed with the connect outcome code
 * (docs/errors.md) that also went back to the app's redirectUrl. A session nobody finished in
 * time is failed with session_expired even before anything wrote that down.
 */
export const ConnectSessionView = z.object({
  id: z.string(),
  integration: z.string(),
  endUserId: z.string(),
  status: z.enum(['pending', 'connected', 'failed']),
  connectionId: z.string().optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  expiresAt: z.string(),
  createdAt: z.string(),
});
export type ConnectSessionView = z.infer<typeof ConnectSessionView>;

const EXPIRED = { code: 'session_expired', message: 'The connect session expired before it was finished.' };

export async function getConnectSessionView(db: Db, id: string, now: Date): Promise<ConnectSessionView> {
  const [row] = await db.select().from(connectSessions).where(eq(connectSessions.id, id));
  if (!row) throw new AppError('not_found', `No connect session ${id}.`);
  const base = {
    id: row.id,
    integration: row.integrationKey,
    endUserId: row.endUserId,
    expiresAt: row.expiresAt.toISOString(),
    createdAt: row.createdAt.toISOString(),
  };
  switch (row.status) {
    case 'completed':
      return { ...base, status: 'connected', connectionId: row.connectionId ?? undefined };
    case 'failed':
    case 'expired':
      return { ...base, status: 'failed', error: row.error ?? EXPIRED };
    case 'pending':
    case 'authorizing':
      return row.expiresAt.getTime() <= now.getTime()
        ? { ...base, status: 'failed', error: EXPIRED }
        : { ...base, status: 'pending' };
  }
}
