-- +goose Up
-- A sender claims a message for a short while instead of holding a row lock
-- (and, on SQLite, the database's write lock) during the SMTP conversation.
ALTER TABLE outbox ADD COLUMN claimed_until timestamptz;

-- +goose Down
ALTER TABLE outbox DROP COLUMN claimed_until;
