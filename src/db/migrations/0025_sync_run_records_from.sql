-- Where a run's records begin in the change order: the record positions' sequence value when the
-- run was created. Every record the run writes takes a larger position, so the records API's
-- cursor at this position reads what changed from the run on (`sync.completed` carries it).
alter table sync_runs add column records_from bigint;
