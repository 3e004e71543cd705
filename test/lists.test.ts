import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordAudit } from '../src/audit/audit-log.ts';
import type { Db } from '../src/db/client.ts';
import {
  connections,
  gmailMailboxes,
  integrations,
  payments,
  signatureRequests,
  webhookEvents,
} from '../src/db/schema.ts';
import { makeId } from '../src/ids.ts';
import { startTestTether, type TestTether } from './harness/tether.ts';

// Every list of the API pages the same way (src/db/keyset.ts): {items, nextCursor}, an opaque
// cursor checked on the way in, every row once while rows are being inserted.

interface List {
  /** The list's URL, filtered to the rows this test inserts. */
  url: string;
  /** What identifies an item. */
  idOf: (item: Record<string, unknown>) => string;
  insert: (db: Db) => Promise<void>;
}

const unique = () => randomBytes(6).toString('hex');

const LISTS: List[] = [
  {
    url: '/v1/connections?integration=lists',
    idOf: (item) => String(item.id),
    insert: async (db) => {
      await db.insert(connections).values({
        id: makeId('conn'),
        integrationKey: 'lists',
        provider: 'xero',
        endUserId: 'user-1',
        providerAccountId: unique(),
        status: 'connected',
      });
    },
  },
  {
    url: '/v1/events?integration=lists',
    idOf: (item) => String(item.id),
    insert: async (db) => {
      await db.insert(webhookEvents).values({
        id: makeId('wev'),
        integrationKey: 'lists',
        source: 'stripe',
        eventId: `evt_${unique()}`,
        type: 'payment_intent.succeeded',
        payload: {},
        status: 'processed',
      });
    },
  },
  {
    url: '/v1/audit?action=lists.paging',
    idOf: (item) => String(item.id),
    insert: (db) => recordAudit(db, { actor: 'test', action: 'lists.paging', subjectId: unique() }),
  },
  {
    url: '/v1/payments?integration=lists',
    idOf: (item) => String(item.id),
    insert: async (db) => {
      await db.insert(payments).values({
        id: makeId('pay'),
        provider: 'stripe',
        integrationKey: 'lists',
        providerObjectId: `pi_${unique()}`,
        status: 'succeeded',
        statusRank: 70,
      });
    },
  },
  {
    url: '/v1/signature-requests?integration=lists',
    idOf: (item) => String(item.envelopeId),
    insert: async (db) => {
      await db
        .insert(signatureRequests)
        .values({ envelopeId: randomUUID(), integrationKey: 'lists', status: 'sent', statusRank: 20 });
    },
  },
  {
    url: '/v1/gmail-mailboxes?integration=lists',
    idOf: (item) => String(item.emailAddress),
    insert: async (db) => {
      await db
        .insert(gmailMailboxes)
        .values({ emailAddress: `${unique()}@example.com`, integrationKey: 'lists', historyId: '1' });
    },
  },
  {
    // The test tether seeds no integrations, so the list holds only these and `lists`.
    url: '/v1/integrations',
    idOf: (item) => String(item.key),
    insert: async (db) => {
      await db.insert(integrations).values({ key: `lists-${unique()}`, provider: 'xero', clientId: 'c' });
    },
  },
];

const raw = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('every list', () => {
  let t: TestTether;
  beforeAll(async () => {
    t = await startTestTether();
    // The integration the other rows belong to.
    await t.database.db.insert(integrations).values({ key: 'lists', provider: 'xero', clientId: 'c' });
    for (const list of LISTS) for (let i = 0; i < 12; i++) await list.insert(t.database.db);
  });
  afterAll(() => t.close());

  const get = async (url: string) => {
    const res = await t.app.inject({ method: 'GET', url, headers: t.auth });
    return { status: res.statusCode, body: res.json() };
  };
  /** A page of five, after `cursor` when one is given. */
  const pageUrl = (url: string, cursor?: string) =>
    `${url}${url.includes('?') ? '&' : '?'}limit=5${cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`}`;

  it('answers 400 invalid_cursor to a malformed cursor', async () => {
    const malformed = [
      'nonsense',
      'not base64!',
      '',
      'bm9wZQ',
      raw({ list: 'x' }),
      raw(['connections', 'a\u0000b']),
      raw(['audit', '99999999999999999999']),
      raw(['payments', '2020-02-30T00:00:00.000000Z', 'pay_x']),
      raw(['signature-requests', 7, 'x']),
      raw(['gmail-mailboxes']),
      raw(['integrations', 'a', 'b']),
      'A'.repeat(5000),
    ];
    for (const list of LISTS) {
      for (const cursor of malformed) {
        const res = await get(pageUrl(list.url, cursor));
        expect(res.status, `${list.url} ${cursor}`).toBe(400);
        expect(res.body.error.code, `${list.url} ${cursor}`).toBe('invalid_cursor');
      }
    }
  });

  it('refuses a cursor that another list handed out', async () => {
    const cursors = await Promise.all(
      LISTS.map(async (list) => {
        const first = await get(pageUrl(list.url));
        expect(first.status, list.url).toBe(200);
        expect(first.body.nextCursor, list.url).toEqual(expect.any(String));
        return first.body.nextCursor as string;
      }),
    );
    for (const [i, list] of LISTS.entries()) {
      const foreign = cursors[(i + 1) % cursors.length]!;
      const res = await get(pageUrl(list.url, foreign));
      expect(res.status, list.url).toBe(400);
      expect(res.body.error.code, list.url).toBe('invalid_cursor');
      expect((await get(pageUrl(list.url, cursors[i]!))).status, list.url).toBe(200);
    }
  });

  it('returns every row once, in order, while rows are being inserted', async () => {
    for (const list of LISTS) {
      const everything = await get(pageUrl(list.url).replace('limit=5', 'limit=500'));
      expect(everything.body.nextCursor, list.url).toBeNull();
      const expected = everything.body.items.map(list.idOf);
      expect(expected.length, list.url).toBeGreaterThanOrEqual(12);

      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const url: string = pageUrl(list.url, cursor ?? undefined);
        // Writers keep going while the page is read and between reads.
        const [page] = await Promise.all([get(url), list.insert(t.database.db), list.insert(t.database.db)]);
        expect(page.status, url).toBe(200);
        expect(Object.keys(page.body).sort()).toEqual(['items', 'nextCursor']);
        seen.push(...page.body.items.map(list.idOf));
        cursor = page.body.nextCursor;
        pages++;
      } while (cursor && pages < 100);

      expect(new Set(seen).size, list.url).toBe(seen.length);
      expect(
        seen.filter((id) => expected.includes(id)),
        list.url,
      ).toEqual(expected);
    }
  });
});
