import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestTether, type TestTether } from '../../test/harness/tether.ts';
import { recordAudit } from './audit-log.ts';

describe('the audit log', () => {
  let t: TestTether;
  beforeAll(async () => {
    t = await startTestTether();
  });
  afterAll(() => t.close());

  const page = async (query: string) => {
    const res = await t.app.inject({ method: 'GET', url: `/v1/audit?${query}`, headers: t.auth });
    expect(res.statusCode).toBe(200);
    return res.json() as {
      items: { id: string; action: string; subjectId: string | null; metadata: Record<string, unknown> }[];
      nextCursor: string | null;
    };
  };

  it('pages newest first with no duplicates or gaps while rows are being inserted', async () => {
    for (let i = 0; i < 30; i++) {
      await recordAudit(t.database.db, {
        actor: 'test',
        action: 'paging.before',
        subjectType: 'thing',
        subjectId: String(i),
      });
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let inserted = 0;
    do {
      const result = await page(`action=paging.before&limit=7${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...result.items.map((item) => item.subjectId!));
      cursor = result.nextCursor;
      // Writers keep going between page reads.
      await Promise.all(
        [0, 1, 2].map(() =>
          recordAudit(t.database.db, {
            actor: 'test',
            action: 'paging.before',
            subjectId: `late-${inserted++}`,
          }),
        ),
      );
    } while (cursor);
    const original = seen.filter((id) => !id.startsWith('late-'));
    expect(original).toEqual(Array.from({ length: 30 }, (_, i) => String(29 - i)));
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('filters by action and subject', async () => {
    await recordAudit(t.database.db, {
      actor: 'test',
      action: 'filter.a',
      subjectType: 'connection',
      subjectId: 'c1',
    });
    await recordAudit(t.database.db, {
      actor: 'test',
      action: 'filter.b',
      subjectType: 'connection',
      subjectId: 'c1',
    });
    await recordAudit(t.database.db, {
      actor: 'test',
      action: 'filter.a',
      subjectType: 'connection',
      subjectId: 'c2',
    });
    expect((await page('action=filter.a')).items.map((i) => i.subjectId)).toEqual(['c2', 'c1']);
    expect((await page('subjectType=connection&subjectId=c1')).items.map((i) => i.action)).toEqual([
      'filter.b',
      'filter.a',
    ]);
  });

  it('keeps secrets out of metadata', async () => {
    await recordAudit(t.database.db, {
      actor: 'test',
      action: 'secret.kept-out',
      metadata: {
        provider: 'xero',
        refreshToken: 'rt_abc',
        nested: { client_secret: 'cs_abc', scopes: ['a'] },
      },
    });
    const [entry] = (await page('action=secret.kept-out')).items;
    expect(entry!.metadata).toEqual({
      provider: 'xero',
      refreshToken: '[redacted]',
      nested: { client_secret: '[redacted]', scopes: ['a'] },
    });
  });
});
