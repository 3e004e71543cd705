-- Every committed change to a connection or an integration is announced on the channel
-- tether_connection_changes, so each instance's token cache drops what it holds about it
-- (src/connections/connection-changes.ts). A trigger rather than a call in each write: a change
-- made anywhere (a refresh, a disconnect, a reconnect, an integration edit, a key rotation, an
-- operator's own UPDATE) is announced, and NOTIFY is delivered only when its transaction commits.
-- Payloads name a row, never a secret: 'c:<connection id>' or 'i:<integration key>'.
-- Taking or releasing the refresh lease changes nothing a cache holds, so it is not announced.
create function tether_announce_connection_change() returns trigger language plpgsql as $$
begin
  if tg_op = 'UPDATE'
    and (to_jsonb(new) - 'refresh_lease_owner' - 'refresh_lease_until')
      = (to_jsonb(old) - 'refresh_lease_owner' - 'refresh_lease_until') then
    return null;
  end if;
  perform pg_notify('tether_connection_changes', 'c:' || coalesce(new.id, old.id));
  return null;
end
$$;

create trigger connections_announce_change
  after insert or update or delete on connections
  for each row execute function tether_announce_connection_change();

create function tether_announce_integration_change() returns trigger language plpgsql as $$
begin
  perform pg_notify('tether_connection_changes', 'i:' || coalesce(new.key, old.key));
  return null;
end
$$;

create trigger integrations_announce_change
  after update or delete on integrations
  for each row execute function tether_announce_integration_change();
