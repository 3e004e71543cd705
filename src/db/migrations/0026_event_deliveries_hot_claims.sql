-- Claiming an attempt writes only columns no index covers (the claim, attempts, last_attempt_at,
-- updated_at: next_attempt_at is left as it was), so with room left on each page PostgreSQL makes
-- the claim in place (a HOT update) instead of a new entry in each of the table's indexes.
alter table event_deliveries set (fillfactor = 70);
