-- Mail waits here until a mail server has taken it, so a failure or a crash
-- between the change and the mail loses nothing: it is tried again later,
-- with growing gaps. An instance claims a mail for a while before sending,
-- so several instances send each mail once. The body holds links with
-- secrets (invitations, resets) and is sealed with the system key.
CREATE TABLE mail_outbox (
    id              TEXT PRIMARY KEY,
    to_name         TEXT NOT NULL,
    to_email        TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    claimed_until   BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT,
    failed_at       BIGINT,
    created_at      BIGINT NOT NULL
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE failed_at IS NULL;
