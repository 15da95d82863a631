-- Claims expire pending deliveries past their max_age: find them without
-- scanning the whole queue.
CREATE INDEX deliveries_expiry ON deliveries (integration_id, expires_at) WHERE status = 'pending' AND expires_at > 0;
