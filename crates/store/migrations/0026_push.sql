-- Notices on a person's own devices (web push), chosen per kind like mail.
-- Nothing is pushed until a device subscribes, so turning push on is a
-- step the person takes; these say which kinds reach their devices then.
ALTER TABLE person_settings ADD COLUMN push_messages BIGINT NOT NULL DEFAULT 1;
ALTER TABLE person_settings ADD COLUMN push_reminders BIGINT NOT NULL DEFAULT 1;
ALTER TABLE person_settings ADD COLUMN push_appointments BIGINT NOT NULL DEFAULT 1;
ALTER TABLE person_settings ADD COLUMN push_intake BIGINT NOT NULL DEFAULT 1;

-- One row per device (browser) that asked for notices: where its push
-- service takes messages, and the keys that encrypt them for that browser
-- alone. A push service that says the address is gone removes the row.
CREATE TABLE push_subscriptions (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    endpoint   TEXT NOT NULL UNIQUE,
    p256dh     TEXT NOT NULL,
    auth       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX push_subscriptions_user ON push_subscriptions (user_id);
