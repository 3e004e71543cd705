import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestTether, type TestTether } from './harness/tether.ts';
import { createWebhookIntegration } from './harness/webhooks.ts';

const stripe = new Stripe('sk_test_unused');
const SECRET = 'whsec_logs_test_secret';
/** What a Stripe payment intent carries and a log must never show. */
const CLIENT_SECRET = 'pi_logs_secret_Zq8mW3vT7kLp2XrY';

/**
 * Logs never carry a payload, a connect session token or an OAuth callback's code and state:
 * forced failures and real requests, then a scan of everything logged.
 */
describe('secrets in logs', () => {
  let t: TestTether;
  beforeAll(async () => {
    t = await startTestTether();
    await createWebhookIntegration(t, { key: 'stripe-logs', provider: 'stripe', webhookSecrets: [SECRET] });
  });
  afterAll(() => t?.close());

  const deliver = (id: string, type = 'payment_intent.succeeded') => {
    const body = JSON.stringify({
      id,
      object: 'event',
      type,
      created: 1_700_000_000,
      data: { object: { id: `pi_${id}`, object: 'payment_intent', client_secret: CLIENT_SECRET } },
    });
    return t.app.inject({
      method: 'POST',
      url: '/webhooks/stripe-logs',
      headers: {
        'content-type': 'application/json',
        'stripe-signature': stripe.webhooks.generateTestHeaderString({ payload: body, secret: SECRET }),
      },
      payload: body,
    });
  };
  const sql = (text: string) => t.database.withSession((s) => s.query(text));

  it('logs the database error of a failed inbox write, never the events in it', async () => {
    // A check violation's detail quotes the whole failing row, payload included.
    await sql(
      `alter table webhook_events add constraint refuse_poison check (type <> 'poison.type') not valid`,
    );
    try {
      const answers = await Promise.all([
        deliver('evt_logs_fine_1'),
        deliver('evt_logs_poison', 'poison.type'),
        deliver('evt_logs_fine_2'),
      ]);
      expect(answers.map((a) => a.statusCode)).toEqual([200, 503, 200]);
    } finally {
      await sql('alter table webhook_events drop constraint refuse_poison');
    }
    // The transaction failing as a whole: every delivery of its batch fails.
    await sql(`create function refuse_inbox() returns trigger language plpgsql as $$
      begin raise exception 'disk full'; end $$;
      create trigger refuse_inbox before insert on webhook_events for each row execute function refuse_inbox();`);
    try {
      const answers = await Promise.all([deliver('evt_logs_lost_1'), deliver('evt_logs_lost_2')]);
      expect(answers.map((a) => a.statusCode)).toEqual([503, 503]);
    } finally {
      await sql('drop trigger refuse_inbox on webhook_events; drop function refuse_inbox();');
    }
    const failures = t.logs.lines
      .map((line) => JSON.parse(line))
      .filter((l) => l.msg === 'webhook inbox write failed');
    expect(failures).toHaveLength(3);
    // The database's words are there, so an operator sees why.
    expect(failures.map((l) => l.err?.code).sort()).toEqual(['23514', 'P0001', 'P0001']);
    const logged = t.logs.text();
    expect(logged).not.toContain(CLIENT_SECRET);
    expect(logged).not.toContain('evt_logs_');
  });

  it('redacts the connect session token and the callback code and state in the request log', async () => {
    const token = 'cst_logs_Hq3vN8pWz2LmK5xR';
    await t.app.inject({ method: 'GET', url: `/connect/${token}` });
    await t.app.inject({ method: 'GET', url: `/connect/${token}/?x=1` });
    await t.app.inject({
      method: 'GET',
      url: '/oauth/callback?code=code_logs_J7dK2mQx&state=state_logs_W4nB9cTe&scope=email',
    });
    await t.app.inject({
      method: 'GET',
      url: '/oauth/callback?error=access_denied&state=state_logs_P5rS1yUf',
    });
    const logged = t.logs.text();
    expect(logged).toContain('/connect/[redacted]');
    expect(logged).toContain('/oauth/callback?');
    for (const secret of [token, 'code_logs_J7dK2mQx', 'state_logs_W4nB9cTe', 'state_logs_P5rS1yUf'])
      expect(logged).not.toContain(secret);
  });
});
