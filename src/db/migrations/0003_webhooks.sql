-- The inbound webhook inbox and the domain state its events drive.
create table webhook_events (
  id text primary key,
  integration_key text not null,
  source text not null,
  event_id text not null,
  type text not null,
  payload jsonb not null,
  status text not null default 'pending',
  attempts integer not null default 0,
  last_error text,
  received_at timestamptz not null default now(),
  processed_at timestamptz,
  updated_at timestamptz not null default now(),
  unique (integration_key, event_id)
);
create index webhook_events_status_idx on webhook_events (status, received_at);
create index webhook_events_integration_idx on webhook_events (integration_key, id desc);

-- One payment per provider object; status only moves forward (status_rank).
create table payments (
  id text primary key,
  provider text not null,
  integration_key text not null,
  provider_object_id text not null,
  status text not null,
  status_rank integer not null,
  amount bigint,
  currency text,
  refunded_amount bigint not null default 0,
  dispute_status text,
  customer text,
  last_event_id text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (provider, provider_object_id)
);

-- DocuSign envelopes; status only moves forward, declined/voided/completed are terminal.
create table signature_requests (
  envelope_id text primary key,
  integration_key text not null,
  account_id text,
  status text not null,
  status_rank integer not null,
  last_event_id text,
  status_changed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

-- Gmail mailboxes watched through Pub/Sub; history_id only moves forward.
create table gmail_mailboxes (
  email_address text primary key,
  integration_key text not null,
  history_id numeric(20, 0) not null,
  last_message_id text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
