-- Which celebrations each partner has already seen, so each appears once.
CREATE TABLE milestones_seen (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind    TEXT NOT NULL,
    seen_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, kind)
);
