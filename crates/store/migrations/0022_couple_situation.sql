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

-- The default program's stages were reordered after the clinical models
-- (stabilise → impact → atone → meaning → rebuild → …). Exercise ids did not
-- change, so answers stay where they were; a couple keeps access to every
-- exercise it could open before: each old unlock opens the new stages that
-- now hold its exercises.
INSERT INTO stage_unlocks (couple_id, stage_id, unlocked_by, unlocked_at)
    SELECT couple_id, 'atoning', unlocked_by, unlocked_at FROM stage_unlocks WHERE stage_id = 'acknowledging-the-pain'
    ON CONFLICT (couple_id, stage_id) DO NOTHING;
INSERT INTO stage_unlocks (couple_id, stage_id, unlocked_by, unlocked_at)
    SELECT couple_id, 'understanding-how-it-happened', unlocked_by, unlocked_at FROM stage_unlocks WHERE stage_id = 'root-causes'
    ON CONFLICT (couple_id, stage_id) DO NOTHING;
INSERT INTO stage_unlocks (couple_id, stage_id, unlocked_by, unlocked_at)
    SELECT couple_id, 'rebuilding-together', unlocked_by, unlocked_at FROM stage_unlocks WHERE stage_id IN ('realistic-goals', 'accountability')
    ON CONFLICT (couple_id, stage_id) DO NOTHING;
INSERT INTO stage_unlocks (couple_id, stage_id, unlocked_by, unlocked_at)
    SELECT couple_id, 'deciding-and-moving-forward', unlocked_by, unlocked_at FROM stage_unlocks WHERE stage_id = 'celebrating-progress'
    ON CONFLICT (couple_id, stage_id) DO NOTHING;
INSERT INTO stage_unlocks (couple_id, stage_id, unlocked_by, unlocked_at)
    SELECT couple_id, 'consistency', unlocked_by, unlocked_at FROM stage_unlocks WHERE stage_id = 'celebrating-progress'
    ON CONFLICT (couple_id, stage_id) DO NOTHING;
DELETE FROM stage_unlocks WHERE stage_id IN ('understanding-trust', 'root-causes', 'realistic-goals', 'accountability', 'celebrating-progress');
