-- The program: onboarding, the private safety check, pacing, homework, and
-- the reflect-back loop. Exercise answers are client writing in `entries`
-- (kind 'exercise', ref_id = the exercise id).

CREATE TABLE onboarding (
    user_id        TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    welcomed_at    BIGINT,
    scores_consent BIGINT NOT NULL DEFAULT 0,
    consent_at     BIGINT,
    safety_done_at BIGINT
);

-- Answers are sealed with the couple's key. Only the person and the
-- couple's therapist (as a flag) ever see anything of it.
CREATE TABLE safety_screenings (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    couple_id   TEXT NOT NULL REFERENCES couples(id),
    answers     BYTEA NOT NULL,
    concerning  BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    resolved_at BIGINT,
    resolved_by TEXT
);
CREATE INDEX safety_screenings_couple ON safety_screenings (couple_id, created_at);

CREATE TABLE couple_journeys (
    couple_id  TEXT PRIMARY KEY REFERENCES couples(id),
    program_id TEXT NOT NULL,
    self_paced BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE stage_unlocks (
    couple_id   TEXT NOT NULL REFERENCES couples(id),
    stage_id    TEXT NOT NULL,
    unlocked_by TEXT NOT NULL,
    unlocked_at BIGINT NOT NULL,
    PRIMARY KEY (couple_id, stage_id)
);

CREATE TABLE assignments (
    id          TEXT PRIMARY KEY,
    couple_id   TEXT NOT NULL REFERENCES couples(id),
    exercise_id TEXT NOT NULL,
    assigned_by TEXT NOT NULL,
    due_on      TEXT,
    note        TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL
);
CREATE INDEX assignments_couple ON assignments (couple_id, created_at);

CREATE TABLE reflect_backs (
    id          TEXT PRIMARY KEY,
    couple_id   TEXT NOT NULL REFERENCES couples(id),
    exercise_id TEXT NOT NULL,
    speaker_id  TEXT NOT NULL,
    listener_id TEXT NOT NULL,
    status      TEXT NOT NULL,
    audience    TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX reflect_backs_couple ON reflect_backs (couple_id, exercise_id, created_at);
