-- Rejected webhook deliveries are folded into one audit row per (integration, reason, minute),
-- carrying a count (src/webhooks/rejection-audit.ts): every process adds its count to that row
-- with an upsert on this index. Rows written before this migration have no minute and never clash.
create unique index audit_log_webhook_rejected_minute_idx
  on audit_log (subject_id, (metadata->>'reason'), (metadata->>'minute'))
  where action = 'webhook.rejected';
-- Retention deletes audit entries by age (src/jobs/retention.ts). Inbox events need no index for
-- it: their ids sort by creation time, and an index on a column processing moves would cost
-- the in-place (HOT) updates that 0005 arranged.
create index audit_log_occurred_idx on audit_log (occurred_at);
