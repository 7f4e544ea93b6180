-- Measures and check-ins. Scores are kept plain (alerts and charts need
-- them); the item answers and any note are sealed with the couple's key.
CREATE TABLE measures (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    couple_id     TEXT NOT NULL REFERENCES couples(id),
    instrument_id TEXT NOT NULL,
    score         BIGINT NOT NULL,
    answers       BYTEA NOT NULL,
    note          BYTEA,
    created_at    BIGINT NOT NULL
);
CREATE INDEX measures_user ON measures (user_id, instrument_id, created_at);
CREATE INDEX measures_couple ON measures (couple_id, created_at);

-- A partner may show their own scores to their partner.
ALTER TABLE onboarding ADD COLUMN scores_to_partner BIGINT NOT NULL DEFAULT 0;

-- How often the weekly check-ins come round, per couple (days).
CREATE TABLE measure_cadence (
    couple_id TEXT PRIMARY KEY REFERENCES couples(id),
    days      BIGINT NOT NULL
);
