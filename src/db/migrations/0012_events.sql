-- Events to the host app (src/events/): subscriptions (the app's endpoints), the outbox of events
-- (written in the transaction of the state change each announces) and one delivery per
-- (event, subscription) that matched when the event was written.

create table event_subscriptions (
  id text primary key,
  url text not null,
  -- The event types wanted, or ["*"].
  events jsonb not null,
  description text,
  enabled boolean not null default true,
  disabled_reason text,
  -- {current, previous?, previousUntil?}: whsec_ secrets, sealed (crypto/seal.ts).
  secrets_sealed text not null,
  -- The circuit breaker (delivery-breaker.ts) and the 5-day rule read these.
  consecutive_failures integer not null default 0,
  failing_since timestamptz,
  breaker_open_until timestamptz,
  last_success_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index event_subscriptions_created_idx on event_subscriptions (created_at, id);

create table outbound_events (
  id text primary key,
  type text not null,
  data jsonb not null,
  occurred_at timestamptz not null
);

create table event_deliveries (
  id text primary key,
  event_id text not null references outbound_events (id) on delete cascade,
  subscription_id text not null references event_subscriptions (id) on delete cascade,
  event_type text not null,
  status text not null check (status in ('pending', 'succeeded', 'failed')),
  attempts integer not null default 0,
  next_attempt_at timestamptz,
  -- The attempt in flight: its owner's token and when its claim lapses (a worker that died).
  claim_token text,
  claimed_until timestamptz,
  last_attempt_at timestamptz,
  last_response_status integer,
  last_latency_ms integer,
  last_response_body text,
  last_error text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index event_deliveries_subscription_idx on event_deliveries (subscription_id, created_at desc, id desc);
-- The repair sweep and the backlog gauge read pending deliveries only.
create index event_deliveries_pending_idx on event_deliveries (subscription_id, next_attempt_at)
  where status = 'pending';
create index event_deliveries_failed_idx on event_deliveries (subscription_id, created_at)
  where status = 'failed';
