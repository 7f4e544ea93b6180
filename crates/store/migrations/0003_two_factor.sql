-- Two-step sign-in with an authenticator app.

ALTER TABLE users ADD COLUMN totp_secret TEXT;
-- The newest time step accepted, so a code cannot be replayed.
ALTER TABLE users ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;

-- Practices require it of their therapists and admins unless turned off.
ALTER TABLE practices ADD COLUMN require_staff_two_factor BIGINT NOT NULL DEFAULT 1;

CREATE TABLE recovery_codes (
    id        TEXT PRIMARY KEY,
    user_id   TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at   BIGINT
);
CREATE INDEX recovery_codes_user ON recovery_codes (user_id);

-- A password was right; the second step is still to come.
CREATE TABLE pending_sign_ins (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL
);
