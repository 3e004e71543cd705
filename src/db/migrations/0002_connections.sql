-- Integrations (an app's credentials at one provider), connect sessions and connections.
-- Secrets are sealed (crypto/seal.ts) with the row's identity as associated data.
create table integrations (
  key text primary key,
  provider text not null,
  client_id text,
  client_secret_sealed text,
  scopes text[] not null default '{}',
  endpoints jsonb not null default '{}'::jsonb,
  options jsonb not null default '{}'::jsonb,
  webhook jsonb not null default '{}'::jsonb,
  webhook_secrets_sealed text,
  last_error jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table connect_sessions (
  id text primary key,
  token_hash text not null unique,
  integration_key text not null references integrations (key) on delete cascade,
  end_user_id text not null,
  redirect_url text,
  status text not null default 'pending',
  state_hash text unique,
  code_verifier_sealed text,
  expires_at timestamptz not null,
  state_used_at timestamptz,
  error jsonb,
  connection_id text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table connections (
  id text primary key,
  integration_key text not null references integrations (key),
  provider text not null,
  end_user_id text not null,
  provider_account_id text not null,
  status text not null,
  credentials_sealed text,
  previous_refresh_token_sealed text,
  refresh_token_rotated_at timestamptz,
  access_token_issued_at timestamptz,
  expires_at timestamptz,
  refresh_expires_at timestamptz,
  metadata jsonb not null default '{}'::jsonb,
  last_refresh_at timestamptz,
  last_error jsonb,
  failure_count integer not null default 0,
  next_attempt_at timestamptz,
  refresh_lease_owner text,
  refresh_lease_until timestamptz,
  credentials_version integer not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (integration_key, end_user_id, provider_account_id)
);
create index connections_expiry_idx on connections (expires_at) where status in ('connected', 'degraded');
create index connections_end_user_idx on connections (end_user_id);
