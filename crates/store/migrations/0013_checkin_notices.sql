-- When each partner was last mailed that a check-in is ready, so the mail
-- goes out at most once a week while one waits.
CREATE TABLE checkin_notices (
    user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    sent_at BIGINT NOT NULL
);
