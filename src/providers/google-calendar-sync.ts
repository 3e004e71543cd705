import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { SyncContext, SyncDefinition, SyncItem } from '../syncs/definition.ts';
import { isoMillis, RawItems, readGoogleJson } from './google-sync-http.ts';

/**
 * Google Calendar `events`: the primary calendar's events.
 *
 *   full: events.list pages (pageToken) of the whole calendar; the last page carries
 *         `nextSyncToken`; when it is stored, the records the pass did not see are tombstones
 *   incremental: events.list with the syncToken, paged the same way: changed events are stored,
 *         `status: "cancelled"` ones become tombstones; the last page's nextSyncToken is next
 *   410 Gone (the sync token is no longer valid): a new full pass, by itself, whose sweep removes
 *         whatever the calendar no longer has, so the copy ends exact without wiping it first
 *         (readers of the records API see only real changes)
 *
 * Every page's checkpoint holds the page token, so a stopped run resumes at the page it stopped.
 * An event's version is its `updated` time: an older copy never overwrites a newer one.
 */

export type CalendarCheckpoint =
  | { phase: 'full'; passId: string; pageToken: string | null }
  | { phase: 'incremental'; syncToken: string; pageToken: string | null };

const MODEL = 'events';
const PAGE = 500;
const EVENTS = 'calendar/v3/calendars/primary/events';

const EventTime = z
  .object({ dateTime: z.string().optional(), date: z.string().optional(), timeZone: z.string().optional() })
  .refine((t) => t.dateTime !== undefined || t.date !== undefined, 'needs dateTime or date');
const Person = z.object({ email: z.string().optional(), displayName: z.string().optional() }).optional();
const Event = z.object({
  id: z.string().min(1),
  status: z.enum(['confirmed', 'tentative', 'cancelled']),
  summary: z.string().optional(),
  description: z.string().optional(),
  location: z.string().optional(),
  htmlLink: z.string().optional(),
  created: z.iso.datetime({ offset: true }),
  updated: z.iso.datetime({ offset: true }),
  start: EventTime,
  end: EventTime,
  organizer: Person,
  creator: Person,
  attendees: z
    .array(z.object({ email: z.string().optional(), responseStatus: z.string().optional() }))
    .optional(),
  recurringEventId: z.string().optional(),
  recurrence: z.array(z.string()).optional(),
  iCalUID: z.string().optional(),
  sequence: z.number().int().optional(),
});

const Page = z.object({
  items: RawItems.default([]),
  nextPageToken: z.string().optional(),
  nextSyncToken: z.string().optional(),
});

function mapEvent(raw: unknown) {
  const e = Event.parse(raw);
  return {
    data: {
      id: e.id,
      status: e.status,
      summary: e.summary ?? null,
      description: e.description ?? null,
      location: e.location ?? null,
      start: e.start,
      end: e.end,
      organizer: e.organizer?.email ?? null,
      attendees: e.attendees ?? [],
      recurringEventId: e.recurringEventId ?? null,
      recurrence: e.recurrence ?? null,
      iCalUID: e.iCalUID ?? null,
      sequence: e.sequence ?? 0,
      htmlLink: e.htmlLink ?? null,
      created: e.created,
      updated: e.updated,
    },
    version: isoMillis(e.updated),
  };
}

function toItem(raw: z.infer<typeof RawItems>[number]): SyncItem {
  if (raw.status === 'cancelled') {
    const updated = typeof raw.updated === 'string' ? isoMillis(raw.updated) : Number.NaN;
    return { kind: 'deleted', model: MODEL, id: raw.id, version: Number.isNaN(updated) ? null : updated };
  }
  return { kind: 'record', model: MODEL, id: raw.id, raw };
}

const newPass = (): CalendarCheckpoint => ({
  phase: 'full',
  passId: randomBytes(8).toString('hex'),
  pageToken: null,
});

async function* run(ctx: SyncContext, checkpoint: CalendarCheckpoint | null) {
  let cp = checkpoint ?? newPass();
  for (;;) {
    const query = new URLSearchParams({ maxResults: String(PAGE) });
    if (cp.phase === 'incremental') query.set('syncToken', cp.syncToken);
    if (cp.pageToken) query.set('pageToken', cp.pageToken);
    const response = await ctx.request(`${EVENTS}?${query}`);
    // 410: the sync token (or a page of it) no longer holds. 400 on a page token of a full pass:
    // the listing it belonged to is gone. Either way, start a full pass.
    if (response.status === 410 || (response.status === 400 && cp.pageToken)) {
      await response.body?.cancel();
      cp = newPass();
      continue;
    }
    const page = await readGoogleJson(response, Page, 'events.list');
    const items = page.items.map(toItem);
    const last = page.nextPageToken === undefined;
    if (last && page.nextSyncToken === undefined) {
      // Without a sync token the next run could not be incremental: refuse rather than loop.
      throw new Error('Google Calendar gave neither nextPageToken nor nextSyncToken.');
    }
    const next: CalendarCheckpoint = last
      ? { phase: 'incremental', syncToken: page.nextSyncToken!, pageToken: null }
      : { ...cp, pageToken: page.nextPageToken! };
    if (cp.phase === 'full') {
      yield { items, checkpoint: next, fullPass: { id: cp.passId, models: [MODEL], complete: last } };
    } else yield { items, checkpoint: next };
    cp = next;
    if (last) return;
  }
}

/** Events by id (failed records of an earlier run): events.get each; a 404 or 410 means it is gone. */
async function refetch(ctx: SyncContext, _model: string, ids: readonly string[]): Promise<SyncItem[]> {
  const items: SyncItem[] = [];
  for (const id of ids) {
    const response = await ctx.request(`${EVENTS}/${encodeURIComponent(id)}`);
    if (response.status === 404 || response.status === 410) {
      await response.body?.cancel();
      items.push({ kind: 'deleted', model: MODEL, id });
      continue;
    }
    const raw = await readGoogleJson(response, z.looseObject({ id: z.string() }), 'events.get');
    items.push(toItem(raw));
  }
  return items;
}

export const calendarEventsSync: SyncDefinition<CalendarCheckpoint> = {
  name: 'calendar-events',
  models: [{ name: MODEL, map: mapEvent }],
  defaultFrequencyMinutes: 30,
  scopes: [
    'https://www.googleapis.com/auth/calendar.readonly',
    'https://www.googleapis.com/auth/calendar',
    'https://www.googleapis.com/auth/calendar.events.readonly',
    'https://www.googleapis.com/auth/calendar.events',
  ],
  run,
  refetch,
};
