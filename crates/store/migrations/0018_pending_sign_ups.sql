-- A self-guided sign-up waits here until its owner opens the link mailed to
-- the address: an account is made only for someone who reads that mailbox,
-- so nobody can hold another person's address, and the answer to a sign-up
-- is the same whether or not the address already has an account.
CREATE TABLE pending_sign_ups (
    token_hash    TEXT PRIMARY KEY,
    email         TEXT NOT NULL,
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
);
CREATE INDEX pending_sign_ups_email ON pending_sign_ups (email);
