import { z } from 'zod';
import { AppError } from '../errors.ts';
import type { SyncContext, SyncDefinition, SyncItem, SyncPage } from '../syncs/definition.ts';
import { makeOverlapFilter } from './page-overlap.ts';
import { readSyncJson } from './sync-response.ts';

/**
 * DocuSign `envelopes`: the account's envelope status changes since `from_date` (required by
 * DocuSign), oldest change first, 100 a page by `start_position`.
 *
 * As with Xero, the mark moves after every page to the newest status change on it and paging
 * starts again at position 0: an envelope whose status changes mid-pass moves to the end of the
 * order and would otherwise push another back onto a page already read, never to be seen again.
 * `from_date` counts from the instant given, so the envelopes at the mark come again, unchanged.
 * Voided envelopes stay, with their status: DocuSign keeps them too.
 */

export interface DocusignCheckpoint {
  /** Status changes at or after this instant (ms) are still to read. */
  fromDate: number;
  startPosition: number;
}

const MODEL = 'envelopes';
const COUNT = 100;
const DISPLAY = 'DocuSign';
/** Far enough back for any account's first envelope. */
const BEGINNING = Date.UTC(2000, 0, 1);
const ID_CHUNK = 50;

const DocusignDate = z.string().transform((value, ctx) => {
  const at = Date.parse(value.replace(/(\.\d{3})\d*Z$/, '$1Z'));
  if (Number.isNaN(at)) {
    ctx.addIssue({ code: 'custom', message: 'is not a date' });
    return z.NEVER;
  }
  return at;
});
const Envelope = z.object({
  envelopeId: z.string().min(1),
  status: z.string().min(1),
  emailSubject: z.string(),
  createdDateTime: DocusignDate,
  sentDateTime: DocusignDate.optional(),
  statusChangedDateTime: DocusignDate,
  completedDateTime: DocusignDate.optional(),
  voidedDateTime: DocusignDate.optional(),
  voidedReason: z.string().optional(),
});
const Count = z.string().regex(/^\d+$/).transform(Number);
const Page = z.object({
  resultSetSize: Count,
  endPosition: Count,
  totalSetSize: Count,
  envelopes: z.array(z.unknown()).default([]),
});
const Head = z.object({
  envelopeId: z.string().min(1),
  statusChangedDateTime: DocusignDate.optional().catch(undefined),
});

function mapEnvelope(raw: unknown) {
  const e = Envelope.parse(raw);
  const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
  return {
    data: {
      id: e.envelopeId,
      status: e.status,
      subject: e.emailSubject,
      createdAt: iso(e.createdDateTime),
      sentAt: iso(e.sentDateTime),
      statusChangedAt: iso(e.statusChangedDateTime),
      completedAt: iso(e.completedDateTime),
      voidedAt: iso(e.voidedDateTime),
      voidedReason: e.voidedReason ?? null,
    },
    version: e.statusChangedDateTime,
  };
}

function envelopesPath(ctx: SyncContext, query: URLSearchParams): string {
  const accountId = ctx.metadata.accountId;
  if (typeof accountId !== 'string' || accountId === '')
    throw new AppError('not_connected', 'This DocuSign connection has no account id to sync.');
  return `v2.1/accounts/${encodeURIComponent(accountId)}/envelopes?${query}`;
}

async function* run(
  ctx: SyncContext,
  checkpoint: DocusignCheckpoint | null,
): AsyncGenerator<SyncPage<DocusignCheckpoint>> {
  let { fromDate, startPosition } = checkpoint ?? { fromDate: BEGINNING, startPosition: 0 };
  const fresh = makeOverlapFilter();
  for (;;) {
    const query = new URLSearchParams({
      from_date: new Date(fromDate).toISOString(),
      start_position: String(startPosition),
      count: String(COUNT),
      order_by: 'status_changed',
      order: 'asc',
    });
    const page = await readSyncJson(
      await ctx.request(envelopesPath(ctx, query)),
      Page,
      DISPLAY,
      'GET envelopes',
    );
    const items: SyncItem[] = [];
    let newest = fromDate;
    for (const envelope of page.envelopes) {
      const head = Head.safeParse(envelope);
      if (!head.success) continue;
      items.push({ kind: 'record', model: MODEL, id: head.data.envelopeId, raw: envelope });
      newest = Math.max(newest, head.data.statusChangedDateTime ?? newest);
    }
    const more = page.resultSetSize > 0 && page.endPosition + 1 < page.totalSetSize;
    if (!more || newest > fromDate) {
      fromDate = newest;
      startPosition = 0;
    } else startPosition += page.resultSetSize;
    yield { items: fresh(items), checkpoint: { fromDate, startPosition } };
    if (!more) return;
  }
}

async function refetch(ctx: SyncContext, _model: string, ids: readonly string[]): Promise<SyncItem[]> {
  const found = new Map<string, SyncItem>();
  for (let at = 0; at < ids.length; at += ID_CHUNK) {
    const query = new URLSearchParams({ envelope_ids: ids.slice(at, at + ID_CHUNK).join(',') });
    const page = await readSyncJson(
      await ctx.request(envelopesPath(ctx, query)),
      Page,
      DISPLAY,
      'GET envelopes',
    );
    for (const envelope of page.envelopes) {
      const head = Head.safeParse(envelope);
      if (head.success)
        found.set(head.data.envelopeId, {
          kind: 'record',
          model: MODEL,
          id: head.data.envelopeId,
          raw: envelope,
        });
    }
  }
  return ids.map((id) => found.get(id) ?? { kind: 'deleted', model: MODEL, id });
}

export const docusignEnvelopesSync: SyncDefinition<DocusignCheckpoint> = {
  name: 'docusign-envelopes',
  models: [{ name: MODEL, map: mapEnvelope }],
  defaultFrequencyMinutes: 60,
  scopes: ['signature'],
  run,
  refetch,
};
