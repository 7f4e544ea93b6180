-- Screening before joint work (issue 13): the therapist's decision after
-- seeing each partner alone, tiered flags that say who may be at risk, a
-- pause either partner can set without a reason, and re-screening.

-- One row per decision; the latest per partner counts. The note is sealed
-- with the couple's key.
CREATE TABLE screening_decisions (
    id         TEXT PRIMARY KEY,
    couple_id  TEXT NOT NULL REFERENCES couples(id),
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    decision   TEXT NOT NULL CHECK (decision IN ('conjoint_ok', 'individual_first', 'conjoint_contraindicated', 'referred')),
    note       BYTEA,
    decided_by TEXT NOT NULL,
    decided_at BIGINT NOT NULL
);
CREATE INDEX screening_decisions_couple ON screening_decisions (couple_id, user_id, decided_at);

-- How strong a flag is and who may be at risk ('themselves' = the person
-- who answered or wrote). Flags raised before this migration were all
-- treated as urgent, so they stay so.
ALTER TABLE safety_screenings ADD COLUMN tier TEXT NOT NULL DEFAULT 'urgent';
ALTER TABLE safety_screenings ADD COLUMN at_risk TEXT NOT NULL DEFAULT 'themselves';
ALTER TABLE safety_screenings ADD COLUMN decision TEXT;

-- A partner closed shared work (no reason asked, none shown).
CREATE TABLE shared_work_pauses (
    couple_id TEXT NOT NULL REFERENCES couples(id),
    user_id   TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    paused_at BIGINT NOT NULL,
    PRIMARY KEY (couple_id, user_id)
);

-- The therapist asked both partners to take the safety check again.
ALTER TABLE couples ADD COLUMN rescreen_requested_at BIGINT;

-- What clients are told about when flags are read, and how often the
-- safety check comes back.
ALTER TABLE practices ADD COLUMN response_promise TEXT NOT NULL DEFAULT '';
ALTER TABLE practices ADD COLUMN rescreen_weeks BIGINT NOT NULL DEFAULT 8;
