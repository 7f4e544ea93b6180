-- Structured talks (speaker-listener), their turns, time-outs and the
-- two-circles compromise. Topics, turns and circles are sealed client writing.

CREATE TABLE talks (
    id                 TEXT PRIMARY KEY,
    couple_id          TEXT NOT NULL REFERENCES couples(id),
    opened_by          TEXT NOT NULL REFERENCES users(id),
    other_partner      TEXT NOT NULL REFERENCES users(id),
    topic              BYTEA NOT NULL,
    -- The couple's choice, shown when the talk starts (default: yes).
    therapist_can_read BIGINT NOT NULL,
    created_at         BIGINT NOT NULL,
    ended_at           BIGINT
);
CREATE INDEX talks_couple ON talks (couple_id, created_at);

-- The turns of a talk, numbered from 1 with no gaps: the number is the SSE
-- event id, and the primary key makes two racing turns collide, not fork.
CREATE TABLE talk_turns (
    talk_id    TEXT NOT NULL REFERENCES talks(id) ON DELETE CASCADE,
    seq        BIGINT NOT NULL,
    author_id  TEXT NOT NULL REFERENCES users(id),
    kind       TEXT NOT NULL,
    body       BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (talk_id, seq)
);

-- A break either partner calls when things get heated; it always comes back.
CREATE TABLE timeouts (
    id              TEXT PRIMARY KEY,
    couple_id       TEXT NOT NULL REFERENCES couples(id),
    caller_id       TEXT NOT NULL REFERENCES users(id),
    talk_id         TEXT REFERENCES talks(id) ON DELETE SET NULL,
    started_at      BIGINT NOT NULL,
    return_at       BIGINT NOT NULL,
    -- When both were invited back (mail at the return time), once.
    invited_back_at BIGINT
);
CREATE INDEX timeouts_couple ON timeouts (couple_id, started_at);
CREATE INDEX timeouts_due ON timeouts (invited_back_at, return_at);

-- Two circles: each partner's core needs and flexible areas on a topic,
-- revealed together once both are written.
CREATE TABLE compromises (
    id           TEXT PRIMARY KEY,
    couple_id    TEXT NOT NULL REFERENCES couples(id),
    opened_by    TEXT NOT NULL REFERENCES users(id),
    topic        BYTEA NOT NULL,
    created_at   BIGINT NOT NULL,
    agreement_id TEXT
);
CREATE INDEX compromises_couple ON compromises (couple_id, created_at);

CREATE TABLE compromise_circles (
    compromise_id TEXT NOT NULL REFERENCES compromises(id) ON DELETE CASCADE,
    user_id       TEXT NOT NULL REFERENCES users(id),
    core          BYTEA NOT NULL,
    flexible      BYTEA NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (compromise_id, user_id)
);
