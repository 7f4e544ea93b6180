-- A distress flag that may be urgent: the coach's word statistics read
-- urgency in the writing that no rule confirmed. Shared work is not paused
-- on such a reading, but the therapist sees it first among distress flags.
ALTER TABLE safety_screenings ADD COLUMN may_be_urgent BIGINT NOT NULL DEFAULT 0;
