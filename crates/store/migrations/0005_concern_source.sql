-- Where a safety concern came from: the onboarding check, or crisis language
-- in something the person wrote.
ALTER TABLE safety_screenings ADD COLUMN source TEXT NOT NULL DEFAULT 'check';

-- When a therapist last opened a couple, so the caseload can show what is new.
CREATE TABLE couple_views (
    therapist_id TEXT NOT NULL,
    couple_id    TEXT NOT NULL REFERENCES couples(id),
    viewed_at    BIGINT NOT NULL,
    PRIMARY KEY (therapist_id, couple_id)
);
