-- The profile that held an event's ids when it was processed (kept up to
-- date through merges; NULL for an event without a profile, and for events
-- processed before this migration). Privacy requests find a person's events
-- through it, so the processor no longer writes an event_search row for the
-- anonymous id of an event that has a profile: that row was a random insert
-- into a large index per event, while new visitors' profile ids grow, so
-- this index is appended to.
ALTER TABLE event_processed ADD COLUMN profile_id INTEGER;
CREATE INDEX event_processed_profile ON event_processed (profile_id, event_seq) WHERE profile_id IS NOT NULL;
