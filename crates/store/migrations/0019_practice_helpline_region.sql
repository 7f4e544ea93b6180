-- The regions whose crisis resources a practice shows (ids from
-- content/helplines.toml, separated by commas). "international" shows
-- emergency numbers and how to find local help.
ALTER TABLE practices ADD COLUMN helpline_region TEXT NOT NULL DEFAULT 'international';
