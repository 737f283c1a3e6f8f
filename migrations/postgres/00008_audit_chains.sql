-- +goose Up
-- The audit log is split into several hash chains so that writers in
-- different organisations do not queue behind one lock: each chain has its
-- own positions (chain_seq) and links, and is locked by one transaction at
-- a time. Records written before this migration form chain 0, their
-- positions equal to their sequence numbers, so their hashes still hold.
-- seq stays the log's global order and now comes from a sequence.
CREATE SEQUENCE audit_log_seq_seq OWNED BY audit_log.seq;
SELECT setval('audit_log_seq_seq', COALESCE((SELECT max(seq) FROM audit_log), 0) + 1, false);
ALTER TABLE audit_log ALTER COLUMN seq SET DEFAULT nextval('audit_log_seq_seq');
ALTER TABLE audit_log ADD COLUMN chain integer NOT NULL DEFAULT 0;
ALTER TABLE audit_log ADD COLUMN chain_seq bigint NOT NULL DEFAULT 0;
ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update;
UPDATE audit_log SET chain_seq = seq;
ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update;
CREATE UNIQUE INDEX audit_log_chain_key ON audit_log (chain, chain_seq);

-- audit_chain_head locks a chain for the calling transaction and returns
-- its last position and hash, in one round trip. A transaction keeps the
-- first chain it locked for all its records (remembered in a
-- transaction-local setting), so it never waits for a second chain while
-- holding one: two writers cannot deadlock on chains.
-- +goose StatementBegin
CREATE FUNCTION audit_chain_head(wanted integer) RETURNS TABLE (chain integer, chain_seq bigint, hash text)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    held integer := NULLIF(current_setting('facility.audit_chain', true), '')::integer;
BEGIN
    IF held IS NULL THEN
        held := wanted;
        PERFORM pg_advisory_xact_lock(7460021, held);
        PERFORM set_config('facility.audit_chain', held::text, true);
    END IF;
    -- Read after the lock: this statement's snapshot sees the last holder's commit.
    RETURN QUERY SELECT held, COALESCE(h.chain_seq, 0)::bigint, COALESCE(h.hash, '')
        FROM (SELECT 1) AS one LEFT JOIN LATERAL (
            SELECT a.chain_seq, a.hash FROM audit_log a WHERE a.chain = held ORDER BY a.chain_seq DESC LIMIT 1
        ) AS h ON true;
END;
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION audit_chain_head(integer);
DROP INDEX audit_log_chain_key;
ALTER TABLE audit_log DROP COLUMN chain_seq;
ALTER TABLE audit_log DROP COLUMN chain;
ALTER TABLE audit_log ALTER COLUMN seq DROP DEFAULT;
DROP SEQUENCE audit_log_seq_seq;
