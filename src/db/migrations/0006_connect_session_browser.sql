-- A connect session's OAuth state is bound to the browser that opened the connect link: that
-- browser holds a random cookie, the session keeps only its SHA-256 hash (connect-cookie.ts).
-- The session's status is its outcome, which GET /v1/connect-sessions/:id reports.
alter table connect_sessions add column browser_binding_hash text;
alter table connect_sessions add constraint connect_sessions_status_check
  check (status in ('pending', 'authorizing', 'completed', 'failed', 'expired'));
