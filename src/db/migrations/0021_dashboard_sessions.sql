-- Dashboard sign-ins. The browser holds a random session id in an HttpOnly cookie; the table keeps
-- only its SHA-256, so a read of this table signs nobody in. Each session has its own CSRF token
-- that every dashboard form carries. Rows past expires_at are refused and pruned.
create table dashboard_sessions (
  id_hash text primary key,
  csrf_token text not null,
  signed_in_with text not null check (signed_in_with in ('api_key', 'admin_password')),
  created_at timestamptz not null default now(),
  expires_at timestamptz not null
);
create index dashboard_sessions_expires_idx on dashboard_sessions (expires_at);
