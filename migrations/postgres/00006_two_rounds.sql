-- +goose Up
-- Two-round calls: a concept note (round 1), then a full proposal (round 2)
-- from the applicants a manager invites. The full proposal has its own
-- closing time, in the call's timezone like the first, with the same grace.
ALTER TABLE calls ADD COLUMN full_proposal_closes_at timestamptz;
ALTER TABLE calls ADD CONSTRAINT calls_full_proposal_after_closes
    CHECK (full_proposal_closes_at IS NULL OR full_proposal_closes_at > closes_at);

-- One record per submitted round, written in the submitting transaction:
-- what was submitted, when, by whom, its receipt and hash. The proposal row
-- carries the round in progress; earlier rounds are kept here. Append-only.
CREATE TABLE proposal_rounds (
    proposal_id     uuid        NOT NULL REFERENCES proposals (id),
    round           integer     NOT NULL CHECK (round IN (1, 2)),
    submitted_at    timestamptz NOT NULL,
    submitted_by    uuid        NOT NULL REFERENCES users (id),
    content_hash    text        NOT NULL,
    receipt_number  text        NOT NULL,
    title           text        NOT NULL,
    requested_minor bigint      NOT NULL,
    answers         text        NOT NULL,
    created_at      timestamptz NOT NULL,
    PRIMARY KEY (proposal_id, round)
);
CREATE UNIQUE INDEX proposal_rounds_receipt_key ON proposal_rounds (receipt_number);

-- +goose StatementBegin
CREATE FUNCTION proposal_rounds_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'proposal_rounds is append-only';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER proposal_rounds_no_update BEFORE UPDATE OR DELETE ON proposal_rounds
    FOR EACH ROW EXECUTE FUNCTION proposal_rounds_append_only();

-- An extension is granted for one round: the concept note's does not carry
-- over to the full proposal.
ALTER TABLE deadline_extensions ADD COLUMN round integer NOT NULL DEFAULT 1 CHECK (round IN (1, 2));

-- +goose Down
ALTER TABLE deadline_extensions DROP COLUMN round;
DROP TRIGGER proposal_rounds_no_update ON proposal_rounds;
DROP FUNCTION proposal_rounds_append_only();
DROP TABLE proposal_rounds;
ALTER TABLE calls DROP CONSTRAINT calls_full_proposal_after_closes;
ALTER TABLE calls DROP COLUMN full_proposal_closes_at;
