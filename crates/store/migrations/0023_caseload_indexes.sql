-- The caseload asks, per couple, for its last session: without this index
-- SQLite's planner may walk every scheduled appointment of the practice
-- (appointments_due) instead of the couple's own.
CREATE INDEX appointments_couple_status ON appointments (couple_id, status, ends_at);
