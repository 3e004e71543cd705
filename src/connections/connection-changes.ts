import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import type { Database } from '../db/client.ts';
import type { Logger } from '../logger.ts';

/**
 * Listens for the change announcements of migration 0016 (a trigger NOTIFYs
 * 'c:<connection id>' or 'i:<integration key>' on commit) and hands them to
 * the token cache, so a refresh, disconnect or edit on any instance drops
 * the entry in every instance.
 *
 * States: connecting → listening → (connection lost) → connecting … → stopped.
 * The cache is open only while listening: it is flushed and closed the
 * moment the listener's connection is lost (announcements made meanwhile
 * are lost with it), and opened again, empty, once LISTEN has been answered
 * on the new connection. On PostgreSQL the listener is a dedicated client,
 * not one of the pool's (a pooled client would stop listening when handed to
 * someone else). PGlite is one process and delivers notifications before
 * the writing query returns, so in-process listening is enough there.
 */
export const CHANGES_CHANNEL = 'tether_connection_changes';
/** The listener's application_name, so an operator (or a test) can find its backend. */
export const LISTENER_APPLICATION_NAME = 'tether-connection-changes';

export interface ChangeSink {
  invalidate(id: string): void;
  invalidateIntegration(key: string): void;
  setListening(listening: boolean): void;
}

export interface ConnectionChanges {
  readonly listening: boolean;
  /** Resolves once every change committed before the call has reached the sink. */
  fence(): Promise<void>;
  /**
   * Test hook: stops receiving announcements without flushing, as if they were lost on the way.
   * The function it answers listens again (flushing, as after a reconnect).
   */
  muteForTest(): Promise<() => Promise<void>>;
  stop(): Promise<void>;
}

export async function listenForConnectionChanges(
  database: Database,
  sink: ChangeSink,
  logger: Logger,
  options: { reconnectMs?: number } = {},
): Promise<ConnectionChanges> {
  const fences = new Map<string, () => void>();
  function receive(payload: string | undefined): void {
    if (!payload) return;
    const kind = payload.slice(0, 2);
    const subject = payload.slice(2);
    if (kind === 'c:') sink.invalidate(subject);
    else if (kind === 'i:') sink.invalidateIntegration(subject);
    else if (kind === 'f:') fences.get(subject)?.();
  }
  async function fenceThrough(notify: (payload: string) => Promise<unknown>, isListening: () => boolean) {
    if (!isListening()) return; // the cache is closed: nothing in it can be stale
    const id = randomUUID();
    const arrived = new Promise<void>((resolve) => {
      fences.set(id, resolve);
      setTimeout(resolve, 5_000).unref();
    });
    await notify(`f:${id}`);
    await arrived;
    fences.delete(id);
  }
  const notifyThroughPool = (payload: string) =>
    database.db.execute(sql`select pg_notify(${CHANGES_CHANNEL}, ${payload})`);

  if (database.pglite) {
    const client = database.pglite;
    let unlisten: (() => Promise<void>) | undefined = await client.listen(CHANGES_CHANNEL, receive);
    sink.setListening(true);
    return {
      get listening() {
        return unlisten !== undefined;
      },
      fence: () => fenceThrough(notifyThroughPool, () => unlisten !== undefined),
      async muteForTest() {
        await unlisten?.();
        return async () => {
          unlisten = await client.listen(CHANGES_CHANNEL, receive);
          sink.setListening(true);
        };
      },
      async stop() {
        sink.setListening(false);
        const stopping = unlisten;
        unlisten = undefined;
        if (!client.closed) await stopping?.();
      },
    };
  }

  return listenOnPostgres(database.url!, sink, logger, receive, options.reconnectMs ?? 250, (isListening) =>
    fenceThrough(notifyThroughPool, isListening),
  );
}

async function listenOnPostgres(
  url: string,
  sink: ChangeSink,
  logger: Logger,
  receive: (payload: string | undefined) => void,
  reconnectMs: number,
  fence: (isListening: () => boolean) => Promise<void>,
): Promise<ConnectionChanges> {
  let client: pg.Client | undefined;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  let failures = 0;

  function lost(lostClient: pg.Client, error?: Error): void {
    if (client !== lostClient) return;
    client = undefined;
    sink.setListening(false);
    lostClient.end().catch(() => {});
    if (stopped) return;
    logger.warn({ err: error }, 'connection change listener lost; token cache flushed, listening again');
    schedule();
  }

  function schedule(): void {
    const wait = Math.min(5_000, reconnectMs * 2 ** Math.min(failures, 5));
    retry = setTimeout(() => void connect(), wait);
    retry.unref();
  }

  async function connect(): Promise<void> {
    const next = new pg.Client({ connectionString: url, application_name: LISTENER_APPLICATION_NAME });
    next.on('notification', (message) => {
      if (client === next) receive(message.payload);
    });
    next.on('error', (error) => lost(next, error));
    next.on('end', () => lost(next));
    try {
      await next.connect();
      await next.query(`listen ${CHANGES_CHANNEL}`);
    } catch (error) {
      next.end().catch(() => {});
      failures++;
      if (stopped) return;
      logger.warn({ err: error }, 'connection change listener could not connect; token cache stays off');
      schedule();
      return;
    }
    if (stopped) {
      await next.end().catch(() => {});
      return;
    }
    failures = 0;
    client = next;
    sink.setListening(true);
  }

  await connect();
  return {
    get listening() {
      return client !== undefined;
    },
    fence: () => fence(() => client !== undefined),
    async muteForTest() {
      const muted = client;
      await muted?.query(`unlisten ${CHANGES_CHANNEL}`);
      return async () => {
        if (client !== muted || !muted) return; // reconnected meanwhile: listening already
        await muted.query(`listen ${CHANGES_CHANNEL}`);
        sink.setListening(true);
      };
    },
    async stop() {
      stopped = true;
      clearTimeout(retry);
      const current = client;
      client = undefined;
      sink.setListening(false);
      await current?.end().catch(() => {});
    },
  };
}
