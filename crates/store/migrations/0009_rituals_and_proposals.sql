-- Rituals: shared moments either partner ticks off. Proposals: promises a
-- therapist suggested in session, waiting for the partner to take them on.
ALTER TABLE promises ADD COLUMN ritual BIGINT NOT NULL DEFAULT 0;
ALTER TABLE promises ADD COLUMN proposed_by TEXT;
ALTER TABLE promises ADD COLUMN proposal_pending BIGINT NOT NULL DEFAULT 0;
