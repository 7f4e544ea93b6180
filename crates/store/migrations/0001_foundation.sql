-- One schema for SQLite and PostgreSQL: TEXT ids (UUIDv7), BIGINT epoch-ms
-- times, BIGINT 0/1 flags. See the README's architecture section for why.

CREATE TABLE practices (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'therapist', 'partner')),
    password_hash TEXT NOT NULL,
    practice_id   TEXT REFERENCES practices(id),
    -- A therapist's code that a self-guided couple types to link to them.
    link_code     TEXT UNIQUE,
    created_at    BIGINT NOT NULL
);
CREATE INDEX users_practice ON users (practice_id);

CREATE TABLE couples (
    id           TEXT PRIMARY KEY,
    practice_id  TEXT REFERENCES practices(id),
    therapist_id TEXT REFERENCES users(id),
    created_at   BIGINT NOT NULL
);
CREATE INDEX couples_therapist ON couples (therapist_id);

-- A partner belongs to at most one couple at a time.
CREATE TABLE couple_members (
    user_id   TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    couple_id TEXT NOT NULL REFERENCES couples(id),
    joined_at BIGINT NOT NULL
);
CREATE INDEX couple_members_couple ON couple_members (couple_id);

CREATE TABLE invitations (
    id          TEXT PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL CHECK (kind IN ('therapist', 'partner')),
    email       TEXT NOT NULL,
    name        TEXT NOT NULL,
    practice_id TEXT REFERENCES practices(id),
    couple_id   TEXT REFERENCES couples(id),
    invited_by  TEXT NOT NULL REFERENCES users(id),
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);
CREATE INDEX invitations_couple ON invitations (couple_id);
CREATE INDEX invitations_practice ON invitations (practice_id);

-- Web sessions and API tokens. Only the SHA-256 of the secret is kept.
CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind         TEXT NOT NULL CHECK (kind IN ('web', 'api')),
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Single-use links that are not invitations: first-run setup, password reset.
CREATE TABLE one_time_tokens (
    token_hash TEXT PRIMARY KEY,
    purpose    TEXT NOT NULL CHECK (purpose IN ('setup', 'password_reset')),
    user_id    TEXT REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
