-- The practice around the couples' work: its public page and time zone,
-- intake requests, appointments and calendar feeds, messages (entries with
-- an addressee), therapists' private notes, and what mail each person wants.

ALTER TABLE practices ADD COLUMN contact TEXT NOT NULL DEFAULT '';
ALTER TABLE practices ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';
-- How many hours before a session its reminder goes out (0: no reminders).
ALTER TABLE practices ADD COLUMN reminder_hours BIGINT NOT NULL DEFAULT 24;

-- Writing addressed to one person (a therapist's private message to one
-- partner): that person may read it too.
ALTER TABLE entries ADD COLUMN addressed_to TEXT;
CREATE INDEX entries_addressed_to ON entries (addressed_to);

-- Per person: their time zone (NULL: the practice's) and which notices they
-- want by mail. A missing row means every default.
CREATE TABLE person_settings (
    user_id             TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    time_zone           TEXT,
    notify_messages     BIGINT NOT NULL DEFAULT 1,
    notify_reminders    BIGINT NOT NULL DEFAULT 1,
    notify_appointments BIGINT NOT NULL DEFAULT 1,
    notify_intake       BIGINT NOT NULL DEFAULT 1
);

-- A person's calendar address is this id plus a tag signed with the master
-- key, so the database alone cannot open a feed. A new id revokes the old.
CREATE TABLE calendar_feeds (
    feed_id    TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL
);
CREATE INDEX calendar_feeds_user ON calendar_feeds (user_id);

-- A visitor asking for a first appointment.
CREATE TABLE intake_requests (
    id              TEXT PRIMARY KEY,
    practice_id     TEXT NOT NULL REFERENCES practices(id),
    names           TEXT NOT NULL,
    email           TEXT NOT NULL,
    partner_email   TEXT NOT NULL DEFAULT '',
    preferred_times TEXT NOT NULL DEFAULT '',
    message         TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL CHECK (status IN ('new', 'accepted', 'declined', 'replied')),
    created_at      BIGINT NOT NULL,
    handled_by      TEXT REFERENCES users(id) ON DELETE SET NULL,
    handled_at      BIGINT,
    couple_id       TEXT REFERENCES couples(id),
    reply           TEXT NOT NULL DEFAULT ''
);
CREATE INDEX intake_requests_practice ON intake_requests (practice_id, status, created_at);

CREATE TABLE appointments (
    id            TEXT PRIMARY KEY,
    couple_id     TEXT NOT NULL REFERENCES couples(id),
    therapist_id  TEXT NOT NULL REFERENCES users(id),
    starts_at     BIGINT NOT NULL,
    ends_at       BIGINT NOT NULL,
    -- 'in_person' or 'video'; `location` is the address or the video link.
    location_kind TEXT NOT NULL CHECK (location_kind IN ('in_person', 'video')),
    location      TEXT NOT NULL DEFAULT '',
    status        TEXT NOT NULL CHECK (status IN ('scheduled', 'cancelled')),
    -- A partner asked to move it; cleared when the therapist reschedules.
    reschedule_requested_by TEXT REFERENCES users(id) ON DELETE SET NULL,
    reschedule_note         TEXT NOT NULL DEFAULT '',
    -- Bumped on every change, for calendar clients (iCalendar SEQUENCE).
    sequence      BIGINT NOT NULL DEFAULT 0,
    reminded_at   BIGINT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX appointments_couple ON appointments (couple_id, starts_at);
CREATE INDEX appointments_due ON appointments (status, reminded_at, starts_at);

-- A therapist's private session notes: sealed with the couple's key, read by
-- their author only, never in a client's export.
CREATE TABLE therapist_notes (
    id           TEXT PRIMARY KEY,
    couple_id    TEXT NOT NULL REFERENCES couples(id),
    therapist_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    body         BYTEA NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX therapist_notes_couple ON therapist_notes (couple_id, therapist_id, created_at);

-- When each person last read a message thread, for "new" counts.
CREATE TABLE thread_reads (
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    thread_key TEXT NOT NULL,
    read_at    BIGINT NOT NULL,
    PRIMARY KEY (user_id, thread_key)
);
