import createClient, { type Client } from 'openapi-fetch';
import type { paths } from './api.d.ts';
import { errorFrom } from './errors.ts';
import { type Page, paginate } from './paginate.ts';

export type { components, paths } from './api.d.ts';
export { type ErrorCode, isTetherError, TetherError } from './errors.ts';
export { type Page, paginate } from './paginate.ts';

export interface TetherClientOptions {
  /** Where tether listens, e.g. http://127.0.0.1:3000. */
  baseUrl: string;
  /** TETHER_API_KEY. */
  apiKey: string;
  /** A fetch of your own (retries, tracing, tests). */
  fetch?: typeof fetch;
}

type Json<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  responses: infer R;
}
  ? R extends { 200: { content: { 'application/json': infer B } } }
    ? B
    : R extends { 201: { content: { 'application/json': infer B } } }
      ? B
      : R extends { 202: { content: { 'application/json': infer B } } }
        ? B
        : never
  : never;

export type Connection = Json<'/v1/connections/{id}', 'get'>;
export type Integration = Json<'/v1/integrations/{key}', 'get'>;
export type ConnectSession = Json<'/v1/connect-sessions', 'post'>;
export type InboxEvent = Json<'/v1/events', 'get'>['items'][number];
export type InboxEventWithPayload = Json<'/v1/events/{id}', 'get'>;
export type AuditEntry = Json<'/v1/audit', 'get'>['items'][number];
export type SyncedRecord = Json<'/v1/connections/{id}/records/{model}', 'get'>['items'][number];
export type ConnectionSync = Json<'/v1/connections/{id}/syncs', 'get'>['items'][number];
export type SyncRun = Json<'/v1/sync-runs', 'get'>['items'][number];
export type SyncRunWithFailures = Json<'/v1/sync-runs/{id}', 'get'>;
export type EventSubscription = Json<'/v1/event-subscriptions/{id}', 'get'>;
export type EventSubscriptionWithSecret = Json<'/v1/event-subscriptions', 'post'>;
export type EventDelivery = Json<'/v1/event-subscriptions/{id}/deliveries', 'get'>['items'][number];
export type FailedRecord = Json<'/v1/connections/{id}/syncs/{sync}/failed-records', 'get'>['items'][number];

type Query<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  parameters: { query?: infer Q };
}
  ? NonNullable<Q>
  : never;
type Body<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  requestBody?: { content: { 'application/json': infer B } };
}
  ? B
  : never;

/** The data of a success, or the answer's TetherError thrown. */
async function data<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok) throw errorFrom(response, error);
  return data as T;
}

/**
 * tether's API from typed code. `api` is the whole typed surface (every route of the OpenAPI
 * document, generated); the families below wrap the common calls, throw `TetherError` with a
 * typed `code` on failure, and page through lists with `for await`.
 */
export function createTetherClient(options: TetherClientOptions) {
  const api: Client<paths> = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    headers: { authorization: `Bearer ${options.apiKey}` },
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const id = (value: string) => ({ path: { id: value } });

  return {
    api,
    integrations: {
      list: (query: Query<'/v1/integrations', 'get'> = {}) =>
        paginate((cursor) => data(api.GET('/v1/integrations', { params: { query: { ...query, cursor } } }))),
      get: (key: string) => data(api.GET('/v1/integrations/{key}', { params: { path: { key } } })),
      create: (body: Body<'/v1/integrations', 'post'>) => data(api.POST('/v1/integrations', { body })),
      update: (key: string, body: Body<'/v1/integrations/{key}', 'patch'>) =>
        data(api.PATCH('/v1/integrations/{key}', { params: { path: { key } }, body })),
      remove: (key: string) => data(api.DELETE('/v1/integrations/{key}', { params: { path: { key } } })),
    },
    connectSessions: {
      create: (body: Body<'/v1/connect-sessions', 'post'>) =>
        data(api.POST('/v1/connect-sessions', { body })),
      get: (sessionId: string) => data(api.GET('/v1/connect-sessions/{id}', { params: id(sessionId) })),
    },
    connections: {
      list: (query: Query<'/v1/connections', 'get'> = {}) =>
        paginate((cursor) => data(api.GET('/v1/connections', { params: { query: { ...query, cursor } } }))),
      summary: () => data(api.GET('/v1/connections/summary', {})),
      get: (connectionId: string) => data(api.GET('/v1/connections/{id}', { params: id(connectionId) })),
      accessToken: (connectionId: string) =>
        data(api.GET('/v1/connections/{id}/access-token', { params: id(connectionId) })),
      refresh: (connectionId: string) =>
        data(api.POST('/v1/connections/{id}/refresh', { params: id(connectionId) })),
      disconnect: (connectionId: string) =>
        data(api.DELETE('/v1/connections/{id}', { params: id(connectionId) })),
    },
    events: {
      list: (query: Query<'/v1/events', 'get'> = {}) =>
        paginate((cursor) => data(api.GET('/v1/events', { params: { query: { ...query, cursor } } }))),
      get: (eventId: string) => data(api.GET('/v1/events/{id}', { params: id(eventId) })),
      replay: (eventId: string) => data(api.POST('/v1/events/{id}/replay', { params: id(eventId) })),
    },
    syncs: {
      /** The syncs a connection offers, with their settings and last run. */
      list: (connectionId: string) =>
        data(api.GET('/v1/connections/{id}/syncs', { params: id(connectionId) })).then((page) => page.items),
      update: (
        connectionId: string,
        sync: string,
        body: Body<'/v1/connections/{id}/syncs/{sync}', 'patch'>,
      ) =>
        data(
          api.PATCH('/v1/connections/{id}/syncs/{sync}', {
            params: { path: { id: connectionId, sync } },
            body,
          }),
        ),
      /** Starts a run (or joins the running one). */
      run: (connectionId: string, sync: string) =>
        data(
          api.POST('/v1/connections/{id}/syncs/{sync}/run', { params: { path: { id: connectionId, sync } } }),
        ),
      /** Forgets the checkpoint: the next run is a full pass (records are kept). */
      reset: (connectionId: string, sync: string) =>
        data(
          api.POST('/v1/connections/{id}/syncs/{sync}/reset', {
            params: { path: { id: connectionId, sync } },
          }),
        ),
      failedRecords: (connectionId: string, sync: string) =>
        paginate((cursor) =>
          data(
            api.GET('/v1/connections/{id}/syncs/{sync}/failed-records', {
              params: { path: { id: connectionId, sync }, query: { cursor } },
            }),
          ),
        ),
    },
    syncRuns: {
      list: (query: Query<'/v1/sync-runs', 'get'> = {}) =>
        paginate((cursor) => data(api.GET('/v1/sync-runs', { params: { query: { ...query, cursor } } }))),
      get: (runId: string) => data(api.GET('/v1/sync-runs/{id}', { params: id(runId) })),
    },
    /** Events to the host app: subscriptions (signed deliveries) and their delivery attempts. */
    eventSubscriptions: {
      /** The answer carries the `whsec_…` secret: keep it, it is shown only here and on rotation. */
      create: (body: Body<'/v1/event-subscriptions', 'post'>) =>
        data(api.POST('/v1/event-subscriptions', { body })),
      list: () =>
        paginate((cursor) => data(api.GET('/v1/event-subscriptions', { params: { query: { cursor } } }))),
      get: (subscriptionId: string) =>
        data(api.GET('/v1/event-subscriptions/{id}', { params: id(subscriptionId) })),
      update: (subscriptionId: string, body: Body<'/v1/event-subscriptions/{id}', 'patch'>) =>
        data(api.PATCH('/v1/event-subscriptions/{id}', { params: id(subscriptionId), body })),
      remove: (subscriptionId: string) =>
        data(api.DELETE('/v1/event-subscriptions/{id}', { params: id(subscriptionId) })),
      rotateSecret: (subscriptionId: string) =>
        data(api.POST('/v1/event-subscriptions/{id}/rotate-secret', { params: id(subscriptionId) })),
      recover: (subscriptionId: string, since: Date | string) =>
        data(
          api.POST('/v1/event-subscriptions/{id}/recover', {
            params: id(subscriptionId),
            body: { since: typeof since === 'string' ? since : since.toISOString() },
          }),
        ),
      deliveries: (
        subscriptionId: string,
        query: Query<'/v1/event-subscriptions/{id}/deliveries', 'get'> = {},
      ) =>
        paginate((cursor) =>
          data(
            api.GET('/v1/event-subscriptions/{id}/deliveries', {
              params: { path: { id: subscriptionId }, query: { ...query, cursor } },
            }),
          ),
        ),
      retryDelivery: (deliveryId: string) =>
        data(api.POST('/v1/event-deliveries/{id}/retry', { params: id(deliveryId) })),
    },
    audit: (query: Query<'/v1/audit', 'get'> = {}) =>
      paginate((cursor) => data(api.GET('/v1/audit', { params: { query: { ...query, cursor } } }))),
    /**
     * A connection's records of one model in change order, tombstones included. `onCursor` gets
     * each page's cursor: keep the last one and pass it as `cursor` next time to read only what
     * changed since.
     */
    records: (
      connectionId: string,
      model: string,
      query: Query<'/v1/connections/{id}/records/{model}', 'get'> & {
        onCursor?: (cursor: string) => void;
      } = {},
    ) => {
      const { onCursor, cursor: start, ...rest } = query;
      return paginate(
        (cursor) =>
          data(
            api.GET('/v1/connections/{id}/records/{model}', {
              params: { path: { id: connectionId, model }, query: { ...rest, cursor } },
            }),
          ) as Promise<Page<SyncedRecord>>,
        start,
        onCursor,
      );
    },
  };
}

export type TetherClient = ReturnType<typeof createTetherClient>;
