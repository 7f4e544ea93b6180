-- Data keys with versions, for couples and for the keys that are not a
-- couple's: `practice:<id>` (intake requests) and `system` (two-step
-- secrets). Sealed text names the version that sealed it; a rotation adds a
-- version, re-seals everything, and drops a retired version once nothing
-- uses it. The couple keys so far become version 1 (the couple_keys table
-- stays, unused, so an older binary's rows are not lost).
CREATE TABLE data_keys (
    owner         TEXT NOT NULL,
    version       BIGINT NOT NULL,
    master_key_id TEXT NOT NULL,
    wrapped       BYTEA NOT NULL,
    created_at    BIGINT NOT NULL,
    retired_at    BIGINT,
    PRIMARY KEY (owner, version)
);
INSERT INTO data_keys (owner, version, master_key_id, wrapped, created_at)
    SELECT couple_id, 1, master_key_id, wrapped, created_at FROM couple_keys;

-- Scores are sealed too (nothing aggregates them in SQL); `score` is kept
-- at 0 once the sealed copy is written, at start-up for older rows.
ALTER TABLE measures ADD COLUMN score_sealed BYTEA;
