-- One-off maintenance already done on this database, by name: start-up skips
-- what is recorded here at its current version (the sealing sweep reads
-- every sealed value, which a large practice should not pay at each start).
CREATE TABLE maintenance (
    name    TEXT PRIMARY KEY,
    version BIGINT NOT NULL,
    done_at BIGINT NOT NULL
);
