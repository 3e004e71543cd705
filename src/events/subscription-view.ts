import { z } from 'zod';
import type { EventDeliveryRow, EventSubscriptionRow } from '../db/schema.ts';
import { SUBSCRIBABLE } from './event-types.ts';

export const SubscriptionView = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(z.string()),
  description: z.string().nullable(),
  enabled: z.boolean(),
  disabledReason: z.string().nullable().describe('Why tether disabled it: gone (410), failing_for_5_days'),
  lastSuccessAt: z.string().nullable(),
  failingSince: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const WithSecret = SubscriptionView.extend({
  secret: z.string().describe('whsec_…: verify deliveries with it (Standard Webhooks); shown only here'),
});

export const EventList = z.array(z.enum(SUBSCRIBABLE)).min(1).max(SUBSCRIBABLE.length);

export function toSubscriptionView(row: EventSubscriptionRow): z.infer<typeof SubscriptionView> {
  return {
    id: row.id,
    url: row.url,
    events: row.events,
    description: row.description,
    enabled: row.enabled,
    disabledReason: row.disabledReason,
    lastSuccessAt: row.lastSuccessAt?.toISOString() ?? null,
    failingSince: row.failingSince?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export const DeliveryStatus = z.enum(['pending', 'succeeded', 'failed']);

export const DeliveryView = z.object({
  id: z.string(),
  subscriptionId: z.string(),
  eventId: z.string().describe('The event id, sent as webhook-id (the same on every attempt)'),
  eventType: z.string(),
  status: DeliveryStatus,
  attempts: z.number(),
  nextAttemptAt: z.string().nullable(),
  lastAttemptAt: z.string().nullable(),
  lastResponseStatus: z.number().nullable(),
  lastLatencyMs: z.number().nullable(),
  lastResponseBody: z.string().nullable().describe('The first KiB of the last answer'),
  lastError: z.string().nullable(),
  createdAt: z.string(),
});

export function toDeliveryView(row: EventDeliveryRow): z.infer<typeof DeliveryView> {
  return {
    id: row.id,
    subscriptionId: row.subscriptionId,
    eventId: row.eventId,
    eventType: row.eventType,
    status: row.status,
    attempts: row.attempts,
    // An attempt in flight keeps the time it was due (its claim leaves the column alone): no next one yet.
    nextAttemptAt: row.claimToken === null ? (row.nextAttemptAt?.toISOString() ?? null) : null,
    lastAttemptAt: row.lastAttemptAt?.toISOString() ?? null,
    lastResponseStatus: row.lastResponseStatus,
    lastLatencyMs: row.lastLatencyMs,
    lastResponseBody: row.lastResponseBody,
    lastError: row.lastError,
    createdAt: row.createdAt.toISOString(),
  };
}
