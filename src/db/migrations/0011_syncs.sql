-- Syncs: the records copied from providers, the runs that copy them, each sync's checkpoint and
-- the records that failed (retried by the next run).

-- Change positions: taken under a per-(connection, model) advisory lock held to commit, so for
-- one (connection, model) a position never becomes visible after a larger one (records-store.ts).
create sequence sync_record_positions;

create table sync_records (
  connection_id text not null references connections (id) on delete cascade,
  model text not null,
  external_id text not null,
  data jsonb not null,
  content_hash text not null,
  -- The provider's own version (Gmail historyId, a modified time in ms): an older one never
  -- overwrites a newer one. Null when the provider gives none.
  provider_version numeric(20, 0),
  first_seen_at timestamptz not null default now(),
  last_modified_at timestamptz not null default now(),
  last_action text not null check (last_action in ('added', 'updated', 'deleted')),
  deleted_at timestamptz,
  change_position bigint not null,
  -- The full pass that last saw the record: one a complete pass did not see becomes a tombstone.
  seen_pass text,
  primary key (connection_id, model, external_id)
);
create index sync_records_changes_idx on sync_records (connection_id, model, change_position);

create table sync_runs (
  id text primary key,
  connection_id text not null references connections (id) on delete cascade,
  sync_name text not null,
  status text not null check (status in ('running', 'succeeded', 'partial', 'failed')),
  trigger text not null,
  imported integer not null default 0,
  updated integer not null default 0,
  unchanged integer not null default 0,
  deleted integer not null default 0,
  skipped integer not null default 0,
  failed integer not null default 0,
  pages integer not null default 0,
  owner text,
  lease_until timestamptz,
  error jsonb,
  created_at timestamptz not null default now(),
  started_at timestamptz,
  finished_at timestamptz,
  updated_at timestamptz not null default now()
);
-- At most one running run per (connection, sync), whatever the number of processes.
create unique index sync_runs_one_running_idx on sync_runs (connection_id, sync_name) where status = 'running';
create index sync_runs_connection_idx on sync_runs (connection_id, id desc);
create index sync_runs_status_idx on sync_runs (status, id desc);

create table sync_checkpoints (
  connection_id text not null references connections (id) on delete cascade,
  sync_name text not null,
  checkpoint jsonb not null,
  updated_at timestamptz not null default now(),
  primary key (connection_id, sync_name)
);

create table sync_failed_records (
  connection_id text not null references connections (id) on delete cascade,
  sync_name text not null,
  model text not null,
  external_id text not null,
  error jsonb not null,
  attempts integer not null default 1,
  last_run_id text,
  first_failed_at timestamptz not null default now(),
  last_failed_at timestamptz not null default now(),
  primary key (connection_id, sync_name, model, external_id)
);
