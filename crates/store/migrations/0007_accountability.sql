-- Promises with follow-through and noticing, agreements both sign.
-- Promise and agreement texts are sealed with the couple's key.

CREATE TABLE promises (
    id          TEXT PRIMARY KEY,
    couple_id   TEXT NOT NULL REFERENCES couples(id),
    owner_id    TEXT NOT NULL REFERENCES users(id),
    text        BYTEA NOT NULL,
    cadence     TEXT NOT NULL,
    start_day   BIGINT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('active', 'paused', 'ended')),
    supersedes  TEXT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX promises_couple ON promises (couple_id, created_at);

CREATE TABLE promise_pauses (
    promise_id TEXT NOT NULL REFERENCES promises(id),
    from_day   BIGINT NOT NULL,
    to_day     BIGINT
);
CREATE INDEX promise_pauses_promise ON promise_pauses (promise_id);

CREATE TABLE promise_marks (
    promise_id       TEXT NOT NULL REFERENCES promises(id),
    day              BIGINT NOT NULL,
    kept_at          BIGINT,
    noticed_at       BIGINT,
    thanks           BYTEA,
    context          BYTEA,
    context_audience TEXT,
    PRIMARY KEY (promise_id, day)
);

CREATE TABLE agreements (
    id          TEXT PRIMARY KEY,
    couple_id   TEXT NOT NULL REFERENCES couples(id),
    title       BYTEA NOT NULL,
    body        BYTEA NOT NULL,
    proposed_by TEXT NOT NULL REFERENCES users(id),
    status      TEXT NOT NULL CHECK (status IN ('proposed', 'agreed', 'superseded', 'withdrawn')),
    supersedes  TEXT,
    created_at  BIGINT NOT NULL,
    agreed_at   BIGINT,
    agreed_by   TEXT
);
CREATE INDEX agreements_couple ON agreements (couple_id, created_at);

-- A couple a partner has left takes no one new: whatever was shared in it
-- stays between the people who were there.
ALTER TABLE couples ADD COLUMN closed_at BIGINT;
