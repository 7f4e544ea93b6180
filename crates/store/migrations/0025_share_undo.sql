-- Shared writing can wait before others see it: an undo window after
-- sharing, or "hold until morning". Until this moment only the author can
-- read the entry, whatever its audience; 0 (all older rows): at once.
ALTER TABLE entries ADD COLUMN visible_from BIGINT NOT NULL DEFAULT 0;
