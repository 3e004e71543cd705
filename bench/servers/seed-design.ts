import { PGlite } from '@electric-sql/pglite';
import express from 'express';
import pg from 'pg';
import Stripe from 'stripe';

/**
 * The seed's design, rebuilt for the benchmark only (never used by tether):
 * Express, then per request `findFirst` an audit row by event id (a JSON
 * scan), process the event, and create the audit row, on the same database.
 */
const stripe = new Stripe('sk_test_unused');
const secret = process.env.BENCH_STRIPE_SECRET!;
type Query = (text: string, params?: unknown[]) => Promise<{ rows: Record<string, unknown>[] }>;

let query: Query;
if (process.env.DATABASE_URL) {
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 20 });
  query = (text, params) => pool.query(text, params);
} else {
  const db = new PGlite(process.env.BENCH_DATA_DIR);
  query = (text, params) => db.query(text, params) as never;
}
await query(
  `create table if not exists seed_audit_log (id bigserial primary key, action text not null, metadata jsonb not null, created_at timestamptz default now())`,
);
await query(`create table if not exists seed_payments (id text primary key, status text not null)`);

const app = express();
app.post('/webhooks/:key', express.raw({ type: '*/*' }), async (req, res) => {
  let event: Stripe.Event;
  try {
    event = stripe.webhooks.constructEvent(req.body, String(req.headers['stripe-signature']), secret);
  } catch {
    res.status(401).json({ error: 'bad signature' });
    return;
  }
  const existing = await query(
    `select id from seed_audit_log where action = 'PAYMENT_WEBHOOK_PROCESSED' and metadata->>'eventId' = $1 limit 1`,
    [event.id],
  );
  if (existing.rows.length) {
    res.json({ received: true, duplicate: true });
    return;
  }
  const object = event.data.object as { id: string; status?: string };
  await query(
    `insert into seed_payments (id, status) values ($1, $2) on conflict (id) do update set status = excluded.status`,
    [object.id, object.status ?? 'unknown'],
  );
  await query(`insert into seed_audit_log (action, metadata) values ('PAYMENT_WEBHOOK_PROCESSED', $1)`, [
    JSON.stringify({ eventId: event.id }),
  ]);
  res.json({ received: true, duplicate: false });
});
const server = app.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  console.log(`listening on http://127.0.0.1:${port} `);
});
