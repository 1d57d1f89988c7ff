-- oml schema, version 13 (postgres). Keep in step with ../sqlite/0013_dialer_sharing.sql.
-- Sharing the campaigns between dialer nodes (issue 17 item 5). On a node's
-- row (`node:<name>`): its capacity, the weight the assignment gives it
-- (NULL: a node from before this version, counted with the default). On a
-- campaign's row: why its holder leads it (assigned by weight, runner-up,
-- only live node...), and the node that is assigned it and asked for it
-- (the holder hands it over at its next renewal; cleared when the holder
-- changes).
ALTER TABLE dialer_leases ADD COLUMN capacity BIGINT;
ALTER TABLE dialer_leases ADD COLUMN reason TEXT;
ALTER TABLE dialer_leases ADD COLUMN asked_by TEXT;
