import { expect } from 'vitest';
import type { TestTether } from './tether.ts';

/** Waits until an inbox row reaches `status` (workers process in the background). */
export async function waitForEvent(
  t: TestTether,
  where: { eventId: string },
  status = 'processed',
  timeoutMs = 20_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await t.database.withSession((s) =>
      s.query<{ id: string; status: string; attempts: number }>(
        'select id, status, attempts from webhook_events where event_id = $1',
        [where.eventId],
      ),
    );
    if (rows[0]?.status === status) return rows[0];
    if (Date.now() > deadline) expect(rows[0]?.status, `event ${where.eventId}`).toBe(status);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function createWebhookIntegration(
  t: TestTether,
  payload: Record<string, unknown>,
): Promise<void> {
  const res = await t.app.inject({ method: 'POST', url: '/v1/integrations', headers: t.auth, payload });
  expect(res.statusCode, res.body).toBe(201);
}
