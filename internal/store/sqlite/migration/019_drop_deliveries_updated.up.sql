-- deliveries_updated (updated_at alone) served retention when it pruned by a
-- delivery's age; retention now prunes by event, and every query on
-- updated_at names its integration (deliveries_outcomes). The index cost a
-- b-tree entry per delivery, and two more on every status change.
DROP INDEX IF EXISTS deliveries_updated;
