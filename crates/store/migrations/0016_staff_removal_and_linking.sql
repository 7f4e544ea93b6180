-- Staff an admin removed: their sessions end and sign-in is refused, while
-- their name stays on the records they wrote.
ALTER TABLE users ADD COLUMN deactivated_at BIGINT;

-- A therapist's practice code works for a while and for one couple.
ALTER TABLE users ADD COLUMN link_code_expires_at BIGINT;

-- A self-guided couple asks to be guided by a therapist: both partners agree,
-- then the therapist accepts. Nothing links on one person's say-so.
CREATE TABLE link_requests (
    id            TEXT PRIMARY KEY,
    couple_id     TEXT NOT NULL REFERENCES couples(id),
    therapist_id  TEXT NOT NULL REFERENCES users(id),
    requested_by  TEXT NOT NULL REFERENCES users(id),
    agreed_by     TEXT REFERENCES users(id),
    status        TEXT NOT NULL CHECK (status IN ('waiting_for_partner', 'waiting_for_therapist', 'accepted', 'declined', 'withdrawn')),
    created_at    BIGINT NOT NULL,
    decided_at    BIGINT
);
CREATE INDEX link_requests_couple ON link_requests (couple_id, status);
CREATE INDEX link_requests_therapist ON link_requests (therapist_id, status);
