-- The caseload asks, per couple, for its last session: without this index
-- SQLite's planner may walk every scheduled appointment of the practice
-- (appointments_due) instead of the couple's own.
CREATE INDEX appointments_couple_status ON appointments (couple_id, status, ends_at);

-- The caseload reads only the ends of each person's check-in history (the
-- first and the last few); this index finds them without touching the rows.
CREATE INDEX measures_history ON measures (couple_id, user_id, instrument_id, created_at, id);
