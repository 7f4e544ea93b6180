-- Two optional answers on the appointment request: the wish to be seen
-- separately first (BIGINT 0/1: accepting then invites only the person who
-- wrote), and a safe way to contact them (sealed with the practice's key,
-- like the rest of the request).
ALTER TABLE intake_requests ADD COLUMN seen_separately BIGINT NOT NULL DEFAULT 0;
ALTER TABLE intake_requests ADD COLUMN safe_contact TEXT NOT NULL DEFAULT '';
