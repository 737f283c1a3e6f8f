-- +goose Up
-- The audit log is split into several hash chains on PostgreSQL (see the
-- PostgreSQL migration). SQLite has one writer at a time, so everything
-- stays in chain 0, whose positions equal the sequence numbers.
ALTER TABLE audit_log ADD COLUMN chain integer NOT NULL DEFAULT 0;
ALTER TABLE audit_log ADD COLUMN chain_seq bigint NOT NULL DEFAULT 0;
DROP TRIGGER audit_log_no_update;
UPDATE audit_log SET chain_seq = seq;
-- +goose StatementBegin
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
-- +goose StatementEnd
CREATE UNIQUE INDEX audit_log_chain_key ON audit_log (chain, chain_seq);

-- +goose Down
DROP INDEX audit_log_chain_key;
ALTER TABLE audit_log DROP COLUMN chain_seq;
ALTER TABLE audit_log DROP COLUMN chain;
