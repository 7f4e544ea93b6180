-- A partner's note when asking to move a session is client writing: sealed
-- with the couple's key, read only by the therapist and the partner who wrote
-- it. The plain-text column of 0010 is no longer written.
ALTER TABLE appointments ADD COLUMN reschedule_note_sealed BYTEA;
UPDATE appointments SET reschedule_note = '';
