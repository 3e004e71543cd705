-- Gmail push: the users.watch of each connection reading a mailbox (src/jobs/gmail-watch-renewal.ts).
-- A watch lapses seven days after it was made; the renewal job renews each one daily.
create table gmail_watches (
  connection_id text primary key references connections (id) on delete cascade,
  topic_name text not null,
  -- The mailbox's history id when the watch was made (Gmail ids can exceed 2^53).
  history_id numeric(20, 0),
  expires_at timestamptz not null,
  renewed_at timestamptz not null,
  -- The last renewal that failed: {code, message, at}; null once one succeeds.
  last_error jsonb,
  updated_at timestamptz not null default now()
);
create index gmail_watches_renewed_idx on gmail_watches (renewed_at);
