-- One vendor API key's rate budget, shared by the nodes of one database
-- (issue 12): keyed by the keyed hash the limiters use, never the key.
-- Times are Unix ms. remaining -1: unknown. assumed 1: the window was
-- rolled over by a take, not yet confirmed by an answer about it.
-- granted: what the last take granted (RETURNING sees only new values).
-- nodes, prev_nodes: one bit per node that took in this window and the
-- one before, so each node paces by its share.
CREATE TABLE rate_budgets (
	key_hash      TEXT    PRIMARY KEY,
	lim           INTEGER NOT NULL DEFAULT 0,
	window_ms     BIGINT  NOT NULL DEFAULT 0,
	remaining     INTEGER NOT NULL DEFAULT -1,
	window_end    BIGINT  NOT NULL DEFAULT 0,
	assumed       INTEGER NOT NULL DEFAULT 0,
	granted       INTEGER NOT NULL DEFAULT 0,
	nodes         BIGINT  NOT NULL DEFAULT 0,
	prev_nodes    BIGINT  NOT NULL DEFAULT 0,
	blocked_until BIGINT  NOT NULL DEFAULT 0,
	updated_at    BIGINT  NOT NULL
);
