/**
 * The events tether announces to the host app. Each is `{id, type, timestamp, data}`; `timestamp`
 * is when the change committed and `data` carries the state's own version or time, so a consumer
 * that sees an older one after a newer one can ignore it (deliveries may arrive out of order).
 */
export const EVENT_TYPES = [
  'connection.created',
  'connection.degraded',
  'connection.recovered',
  'connection.reauthorization_required',
  'connection.disconnected',
  'payment.updated',
  'signature_request.updated',
  'sync.completed',
  'sync.failed',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** What a subscription may ask for: event types, or `*` for all of them. */
export const SUBSCRIBABLE = [...EVENT_TYPES, '*'] as const;
