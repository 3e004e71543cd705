-- Processing moves every inbox row twice (pending → processing → processed). With `status` in an
-- index each move writes a new entry into every index of the table; without one, and with room
-- left on each page, PostgreSQL updates the row in place (a HOT update). Listing by status pages
-- through the id index instead, which is what the newest-first list does anyway.
drop index webhook_events_status_idx;
alter table webhook_events set (fillfactor = 60);
