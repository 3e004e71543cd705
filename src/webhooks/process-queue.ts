/**
 * The queue between the inbox and its workers. One job names the events one
 * inbox commit stored (up to a few hundred), so a burst of deliveries costs a
 * few job rows rather than one each; a replay is a job naming one event.
 */
export const PROCESS_QUEUE = 'webhooks.process';
/** Where pg-boss moves a process job it gave up on; its worker marks the job's open events dead. */
export const DEAD_QUEUE = 'webhooks.dead';

export interface ProcessJob {
  eventRowIds: string[];
}

/** The inbox rows a job names (jobs enqueued before batching named one, as `eventRowId`). */
export function processJobEventIds(data: unknown): string[] {
  if (typeof data !== 'object' || data === null) return [];
  const { eventRowIds, eventRowId } = data as { eventRowIds?: unknown; eventRowId?: unknown };
  if (Array.isArray(eventRowIds)) return eventRowIds.filter((id): id is string => typeof id === 'string');
  return typeof eventRowId === 'string' ? [eventRowId] : [];
}
