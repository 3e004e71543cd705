-- Sync control: each (connection, sync)'s own settings and when the schedule runs it next.
-- enabled / frequency_minutes null: inherit the integration's setting, else the sync's default.
create table sync_schedules (
  connection_id text not null references connections (id) on delete cascade,
  sync_name text not null,
  enabled boolean,
  frequency_minutes integer check (frequency_minutes between 1 and 43200),
  -- The schedule's next run; moved forward (a compare-and-set) by whoever starts it.
  next_run_at timestamptz not null,
  updated_at timestamptz not null default now(),
  primary key (connection_id, sync_name)
);
create index sync_schedules_due_idx on sync_schedules (next_run_at);

-- A connection's latest run of one sync (GET /v1/connections/:id/syncs).
create index sync_runs_connection_sync_idx on sync_runs (connection_id, sync_name, id desc);
-- The records still failing whose last failure was in a run (GET /v1/sync-runs/:id).
create index sync_failed_records_run_idx on sync_failed_records (last_run_id);
