-- The audit log: one row per state change, written through src/audit/audit-log.ts.
create table audit_log (
  id bigint generated always as identity primary key,
  occurred_at timestamptz not null default now(),
  actor text not null,
  action text not null,
  subject_type text,
  subject_id text,
  metadata jsonb not null default '{}'::jsonb
);
create index audit_log_action_idx on audit_log (action, id desc);
create index audit_log_subject_idx on audit_log (subject_type, subject_id, id desc);
