-- Client writing, encrypted at rest; the keys that seal it; the audit log;
-- sign-in throttling that survives restarts.

-- A couple's data key, sealed by a master key kept outside the database.
CREATE TABLE couple_keys (
    couple_id     TEXT PRIMARY KEY REFERENCES couples(id),
    master_key_id TEXT NOT NULL,
    wrapped       BYTEA NOT NULL,
    created_at    BIGINT NOT NULL
);

-- Every kind of client writing with an audience: journal entries now,
-- exercise answers, openness notes and more later. `body` is sealed.
CREATE TABLE entries (
    id         TEXT PRIMARY KEY,
    couple_id  TEXT NOT NULL REFERENCES couples(id),
    author_id  TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    ref_id     TEXT,
    audience   TEXT NOT NULL CHECK (audience IN ('me', 'therapist', 'partner', 'partner_and_therapist')),
    body       BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX entries_couple ON entries (couple_id, created_at);
CREATE INDEX entries_author ON entries (author_id, created_at);

CREATE TABLE audience_changes (
    id            TEXT PRIMARY KEY,
    entry_id      TEXT NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
    changed_by    TEXT NOT NULL,
    from_audience TEXT NOT NULL,
    to_audience   TEXT NOT NULL,
    changed_at    BIGINT NOT NULL
);
CREATE INDEX audience_changes_entry ON audience_changes (entry_id, changed_at);

-- Append-only: the store offers no way to change or remove an event.
CREATE TABLE audit_events (
    id         TEXT PRIMARY KEY,
    at         BIGINT NOT NULL,
    actor_id   TEXT,
    actor_role TEXT,
    action     TEXT NOT NULL,
    subject_id TEXT,
    couple_id  TEXT,
    item_kind  TEXT,
    item_id    TEXT,
    detail     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_subject ON audit_events (subject_id, at);
CREATE INDEX audit_events_actor ON audit_events (actor_id, at);

-- Failed sign-ins per account and per client address.
CREATE TABLE login_throttle (
    throttle_key      TEXT PRIMARY KEY,
    failures          BIGINT NOT NULL,
    window_started_at BIGINT NOT NULL,
    locked_until      BIGINT NOT NULL
);
