import type { FastifyInstance } from 'fastify';
import type { Collection } from '../datasets/change-log.ts';
import { wordsOf } from '../datasets/change-log.ts';
import { googleCollectionOf } from '../datasets/collection-kind.ts';
import { type ProviderReply, send } from '../http.ts';
import { endpoint } from '../route-config.ts';
import type { SandboxState } from '../state.ts';
import { makeRandom } from '../webhooks/random.ts';
import { decodeToken, encodeToken, googleCaller, isReply, readPageSize } from './google-auth.ts';
import { googleError, invalidArgument, notFound } from './google-errors.ts';

// Google Calendar's events.list over the generated `events` dataset (datasets/change-log.ts), under
// /google: GET /calendar/v3/calendars/{calendarId}/events, `primary` (or the account's email) only.
//   full listing: pages of `maxResults` (default 250, at most 2500), `nextPageToken` on every page
//     but the last, `nextSyncToken` on the last only; cancelled events only with showDeleted=true
//   incremental (`syncToken`): every event changed since the token, deleted ones as
//     `status: "cancelled"` whatever showDeleted says, paged the same way
//   a sync token from another sizing of the dataset, unreadable, or older than
//     SYNC_TOKEN_LIFETIME_MS on the sandbox clock: 410 `fullSyncRequired`, as Google answers
//   filters Google refuses beside a syncToken (timeMin, q, orderBy, …): 400
// GET …/events/{eventId} answers one event (a deleted one as cancelled).
// An account without a sized dataset has an empty calendar.

const DEFAULT_RESULTS = 250;
const MAX_RESULTS = 2500;
/** How long a sync token stays valid on the sandbox clock (Google gives no figure; weeks). */
export const SYNC_TOKEN_LIFETIME_MS = 30 * 86_400_000;
const EPOCH_MS = Date.UTC(2024, 0, 1);
const CREATED_STEP_MS = 41_000;
const START_STEP_MS = 3 * 3_600_000;
const NOT_WITH_SYNC_TOKEN = [
  'iCalUID',
  'orderBy',
  'privateExtendedProperty',
  'q',
  'sharedExtendedProperty',
  'timeMin',
  'timeMax',
  'updatedMin',
];

export const fullSyncRequired = (): ProviderReply =>
  googleError(410, 'Sync token is no longer valid, a full sync is required.', 'fullSyncRequired', 'GONE');

export function registerCalendarRoutes(app: FastifyInstance, state: SandboxState): void {
  app.get(
    '/calendar/v3/calendars/:calendarId/events',
    endpoint('google.calendar.events.list'),
    async (request, reply) => {
      const caller = googleCaller(state, request);
      if (!caller.ok) return send(reply, caller.reply);
      const { calendarId } = request.params as { calendarId: string };
      if (calendarId !== 'primary' && calendarId !== caller.email) return send(reply, notFound());
      const query = request.query as Record<string, string | undefined>;
      const limit = readPageSize(
        query.maxResults,
        DEFAULT_RESULTS,
        MAX_RESULTS,
        'maxResults',
        invalidArgument,
      );
      if (isReply(limit)) return send(reply, limit);
      const events = googleCollectionOf(state, 'events', caller.accountId);
      const now = state.clock.now();
      const answer = listEvents(events, query, limit, { now, email: caller.email });
      if (isReply(answer)) return send(reply, answer);
      return {
        kind: 'calendar#events',
        etag: `"p${events?.position() ?? 0}"`,
        summary: caller.email,
        updated: new Date(now).toISOString(),
        timeZone: 'UTC',
        accessRole: 'owner',
        defaultReminders: [{ method: 'popup', minutes: 10 }],
        ...answer,
      };
    },
  );

  app.get(
    '/calendar/v3/calendars/:calendarId/events/:eventId',
    endpoint('google.calendar.events.get'),
    async (request, reply) => {
      const caller = googleCaller(state, request);
      if (!caller.ok) return send(reply, caller.reply);
      const { calendarId, eventId } = request.params as { calendarId: string; eventId: string };
      if (calendarId !== 'primary' && calendarId !== caller.email) return send(reply, notFound());
      const events = googleCollectionOf(state, 'events', caller.accountId);
      const index = events && eventIndexOf(events, eventId);
      // A deleted event is still answered, cancelled, as Google does for a while after deletion.
      if (!events || index === undefined) return send(reply, notFound());
      return renderEvent(events, index, caller.email);
    },
  );
}

interface Listing {
  nextPageToken?: string;
  nextSyncToken?: string;
  items: unknown[];
}

type PageCursor =
  /** A full listing: indexes from `from`, the sync token to hand out at the end made at `position`. */
  | { k: 'f'; e: string; from: number; position: number; deleted: boolean }
  /** An incremental listing: changes after `after`, up to `position` where it started. */
  | { k: 's'; e: string; after: number };

function listEvents(
  events: Collection | undefined,
  query: Record<string, string | undefined>,
  limit: number,
  at: { now: number; email: string },
): Listing | ProviderReply {
  const epoch = events ? epochOf(events) : 'empty';
  const showDeleted = query.showDeleted === 'true';
  let cursor: PageCursor;
  if (query.pageToken !== undefined) {
    const read = decodeToken(query.pageToken) as PageCursor | undefined;
    if (!read || (read.k !== 'f' && read.k !== 's') || read.e !== epoch)
      return invalidArgument('Invalid page token value.');
    cursor = read;
  } else if (query.syncToken !== undefined) {
    const refused = NOT_WITH_SYNC_TOKEN.find((name) => query[name] !== undefined);
    if (refused) return invalidArgument(`The "${refused}" parameter cannot be used with a syncToken.`);
    const token = decodeToken(query.syncToken);
    const position = token?.p;
    if (
      !token ||
      token.e !== epoch ||
      typeof position !== 'number' ||
      typeof token.t !== 'number' ||
      position > (events?.position() ?? 0) ||
      at.now - token.t > SYNC_TOKEN_LIFETIME_MS
    )
      return fullSyncRequired();
    cursor = { k: 's', e: epoch, after: position };
  } else {
    cursor = { k: 'f', e: epoch, from: 0, position: events?.position() ?? 0, deleted: showDeleted };
  }
  const syncToken = (position: number) => encodeToken({ e: epoch, p: position, t: at.now });
  if (!events) return { items: [], nextSyncToken: syncToken(0) };

  if (cursor.k === 'f') {
    const indexes = events.indexes(cursor.from, limit + 1, { deleted: cursor.deleted });
    const page = indexes.slice(0, limit);
    const items = page.map((index) => renderEvent(events, index, at.email));
    if (indexes.length > limit)
      return { items, nextPageToken: encodeToken({ ...cursor, from: indexes[limit]! }) };
    return { items, nextSyncToken: syncToken(cursor.position) };
  }
  const changes = events.changesAfter(cursor.after, limit + 1);
  const page = changes.slice(0, limit);
  const items = page.map((change) => renderEvent(events, change.index, at.email));
  if (changes.length > limit)
    return { items, nextPageToken: encodeToken({ ...cursor, after: page.at(-1)!.position }) };
  return { items, nextSyncToken: syncToken(events.position()) };
}

/** Tokens of one sizing of the dataset; a new sizing makes every earlier token invalid. */
function epochOf(events: Collection): string {
  return `${events.prefix}${events.sizedAt.toString(36)}`;
}

export function eventIdOf(events: Collection, index: number): string {
  // Event ids are base32hex (a–v, 0–9): hex is a subset.
  return `${events.prefix}${index.toString(32).padStart(7, '0')}`;
}

function eventIndexOf(events: Collection, id: string): number | undefined {
  if (!/^[0-9a-v]{13}$/.test(id) || !id.startsWith(events.prefix)) return undefined;
  const index = Number.parseInt(id.slice(6), 32);
  return index < events.size() ? index : undefined;
}

export function renderEvent(events: Collection, index: number, email: string): Record<string, unknown> {
  const id = eventIdOf(events, index);
  const version = events.version(index);
  const created = EPOCH_MS + index * CREATED_STEP_MS;
  const updated = events.changedAt(index) ?? created;
  const etag = `"${updated}${String(version).padStart(3, '0')}"`;
  if (events.isDeleted(index)) return { kind: 'calendar#event', etag, id, status: 'cancelled' };
  if (events.isMalformed(index))
    // What a broken record looks like to a client: fields of the wrong type, others missing.
    return { kind: 'calendar#event', etag, id, status: 'confirmed', start: 'garbled', summary: 42 };
  const random = makeRandom(`${events.spec.seed}:event:${index}`);
  const words = wordsOf(random, 3);
  const start = EPOCH_MS + index * START_STEP_MS + Math.floor(random.next() * 8) * 900_000;
  const minutes = [30, 45, 60, 90][Math.floor(random.next() * 4)]!;
  const tentative = random.next() < 0.1;
  return {
    kind: 'calendar#event',
    etag,
    id,
    status: tentative ? 'tentative' : 'confirmed',
    htmlLink: `https://www.google.com/calendar/event?eid=${Buffer.from(`${id} ${email}`).toString('base64url')}`,
    created: new Date(created).toISOString(),
    updated: new Date(updated).toISOString(),
    summary: `${version > 0 ? `(v${version}) ` : ''}${words.join(' ')} #${index}`,
    location: random.next() < 0.5 ? `Room ${1 + Math.floor(random.next() * 12)}` : undefined,
    creator: { email, self: true },
    organizer: { email, self: true },
    start: { dateTime: new Date(start).toISOString(), timeZone: 'UTC' },
    end: { dateTime: new Date(start + minutes * 60_000).toISOString(), timeZone: 'UTC' },
    iCalUID: `${id}@google.com`,
    sequence: version,
    reminders: { useDefault: true },
    eventType: 'default',
  };
}
