-- Dialer leases with fencing (issue 17 items 1, 2 and 4). One row per key
-- (`node:<name>`, `campaign:<id>`, `engine:single`): the instance holding it
-- (node name and a random token of the running process), a fencing epoch
-- that grows at every change of holder, and an expiry in milliseconds of
-- the database's clock that the holder renews. Every attempt insert and
-- every claim checks the row in its own transaction, so the write of an
-- engine that lost its lease fails. Rows are never deleted (a release sets
-- the expiry to 0), so an epoch never goes back.
CREATE TABLE dialer_leases (
    key TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    node TEXT NOT NULL,
    epoch BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- The node following an open attempt when it is not the node that placed it
-- (it adopted the calls of a node that stopped); NULL: the placing node.
ALTER TABLE call_attempts ADD COLUMN followed_by TEXT;
