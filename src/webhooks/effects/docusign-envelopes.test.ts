import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  docusignInbox,
  type EffectsDatabase,
  makeEffectsDatabase,
} from '../../../test/harness/webhook-effects.ts';
import { signatureRequests } from '../../db/schema.ts';
import { type DocusignEvent, makeConnectPayload } from '../../sandbox/webhooks/docusign-connect.ts';

describe('DocuSign Connect events on signature requests', () => {
  let t: EffectsDatabase;
  beforeAll(async () => {
    t = await makeEffectsDatabase();
  });
  afterAll(() => t.dispose());

  /** Events of one envelope, each generated a second after the one before. */
  const envelope = () => {
    const envelopeId = randomUUID();
    let second = 0;
    const event = (name: DocusignEvent, summary?: Record<string, unknown>) =>
      docusignInbox(
        makeConnectPayload(name, {
          envelopeId,
          accountId: 'acct-1',
          generatedDateTime: new Date(Date.UTC(2026, 0, 1, 12, 0, ++second)),
          ...(summary ? { envelopeSummary: summary } : {}),
        }),
      );
    const row = async () => {
      const [found] = await t.database.db
        .select()
        .from(signatureRequests)
        .where(eq(signatureRequests.envelopeId, envelopeId));
      return found;
    };
    return { envelopeId, event, row };
  };

  it('keeps a completed envelope completed when a late sent event arrives', async () => {
    const e = envelope();
    await t.apply(e.event('envelope-sent'));
    const completed = e.event('envelope-completed');
    const applied = await t.apply(completed);
    expect(applied.effect).toBe('applied');
    // The change returns its event for the worker to write with the batch; a stale one none.
    expect(applied.events).toEqual([
      {
        type: 'signature_request.updated',
        data: expect.objectContaining({
          envelopeId: e.envelopeId,
          status: 'completed',
          accountId: 'acct-1',
          version: 4,
        }),
      },
    ]);
    const late = await t.apply(e.event('envelope-sent'));
    expect(late).toMatchObject({ effect: 'stale' });
    expect(late.events).toBeUndefined();
    expect(await e.row()).toMatchObject({
      status: 'completed',
      statusRank: 4,
      accountId: 'acct-1',
      lastEventId: completed.eventId,
    });
  });

  it('treats declined as terminal', async () => {
    const e = envelope();
    await t.apply(e.event('envelope-declined'));
    for (const later of [
      'envelope-delivered',
      'recipient-completed',
      'envelope-completed',
      'envelope-voided',
    ] as const) {
      expect((await t.apply(e.event(later))).effect).toBe('stale');
    }
    expect((await e.row())?.status).toBe('declined');
  });

  it('keeps delivered when sent arrives after it', async () => {
    const e = envelope();
    await t.apply(e.event('envelope-delivered'));
    expect((await t.apply(e.event('envelope-sent'))).effect).toBe('stale');
    expect((await e.row())?.status).toBe('delivered');
  });

  it('voids an envelope in progress', async () => {
    const e = envelope();
    await t.apply(e.event('envelope-sent'));
    await t.apply(e.event('envelope-delivered'));
    await t.apply(e.event('envelope-voided'));
    expect((await e.row())?.status).toBe('voided');
  });

  it('reads the envelope summary’s status first and falls back to the event name', async () => {
    const e = envelope();
    // One of two signers finished: the summary says the envelope is still only delivered.
    await t.apply(e.event('recipient-completed', { status: 'delivered' }));
    expect((await e.row())?.status).toBe('delivered');
    const bare = e.event('envelope-completed');
    const payload = bare.payload as { data: Record<string, unknown> };
    delete payload.data.envelopeSummary;
    await t.apply(bare);
    expect((await e.row())?.status).toBe('completed');
  });

  it('changes nothing when the same event is applied twice', async () => {
    const e = envelope();
    const sent = e.event('envelope-sent');
    expect((await t.apply(sent)).effect).toBe('applied');
    const before = await e.row();
    expect((await t.apply(sent)).effect).toBe('stale');
    expect(await e.row()).toEqual(before);
  });

  it('ignores events it has no effect for and throws for a message without an envelope id', async () => {
    const e = envelope();
    const other = { ...e.event('envelope-sent'), type: 'recipient-authenticationfailed' };
    expect((await t.apply(other)).effect).toBe('ignored');
    const broken = e.event('envelope-sent');
    (broken.payload as { data: Record<string, unknown> }).data.envelopeId = undefined;
    await expect(t.apply(broken)).rejects.toMatchObject({
      code: 'malformed_payload',
      message: expect.stringContaining('"data.envelopeId"'),
    });
  });
});
