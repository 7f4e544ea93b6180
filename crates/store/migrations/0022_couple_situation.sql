-- The couple's situation (issue 16): one partner hurt by the other, both
-- hurt, or trust worn down; with the hurt partner named when one was hurt.
-- The therapist sets it; partners of a self-guided couple each say what they
-- think, and it is set once both said the same.
CREATE TABLE couple_situations (
    couple_id       TEXT PRIMARY KEY REFERENCES couples(id),
    kind            TEXT NOT NULL CHECK (kind IN ('one_hurt', 'both_hurt', 'eroded')),
    hurt_partner_id TEXT,
    set_by          TEXT NOT NULL,
    set_at          BIGINT NOT NULL
);

CREATE TABLE situation_proposals (
    couple_id       TEXT NOT NULL REFERENCES couples(id),
    user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL CHECK (kind IN ('one_hurt', 'both_hurt', 'eroded')),
    hurt_partner_id TEXT,
    proposed_at     BIGINT NOT NULL,
    PRIMARY KEY (couple_id, user_id)
);
