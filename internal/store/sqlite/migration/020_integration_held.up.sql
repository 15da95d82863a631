-- When an integration was paused (401/403), 0 while it flows: its held
-- deliveries' clocks (max_age, the 24 h retry window) move on by the time it
-- was held when it flows again, so a pause makes no event expire or run
-- out of retries.
ALTER TABLE integrations ADD COLUMN held_since INTEGER NOT NULL DEFAULT 0;
-- An integration paused before this migration was paused when it was last
-- updated (PauseIntegration sets both), or later.
UPDATE integrations SET held_since = updated_at WHERE status = 'paused';
