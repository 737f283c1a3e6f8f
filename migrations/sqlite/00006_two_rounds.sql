-- +goose Up
-- Two-round calls: a concept note (round 1), then a full proposal (round 2)
-- from the applicants a manager invites. The full proposal has its own
-- closing time, in the call's timezone like the first, with the same grace.
-- (SQLite cannot add a table constraint; the domain checks that it is after
-- closes_at, and PostgreSQL enforces it too.)
ALTER TABLE calls ADD COLUMN full_proposal_closes_at TIMESTAMP;

-- One record per submitted round, written in the submitting transaction:
-- what was submitted, when, by whom, its receipt and hash. The proposal row
-- carries the round in progress; earlier rounds are kept here. Append-only.
CREATE TABLE proposal_rounds (
    proposal_id     TEXT      NOT NULL REFERENCES proposals (id),
    round           integer   NOT NULL CHECK (round IN (1, 2)),
    submitted_at    TIMESTAMP NOT NULL,
    submitted_by    TEXT      NOT NULL REFERENCES users (id),
    content_hash    text      NOT NULL,
    receipt_number  text      NOT NULL,
    title           text      NOT NULL,
    requested_minor bigint    NOT NULL,
    answers         text      NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (proposal_id, round)
);
CREATE UNIQUE INDEX proposal_rounds_receipt_key ON proposal_rounds (receipt_number);

-- +goose StatementBegin
CREATE TRIGGER proposal_rounds_no_update BEFORE UPDATE ON proposal_rounds
BEGIN
    SELECT RAISE(ABORT, 'proposal_rounds is append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER proposal_rounds_no_delete BEFORE DELETE ON proposal_rounds
BEGIN
    SELECT RAISE(ABORT, 'proposal_rounds is append-only');
END;
-- +goose StatementEnd

-- An extension is granted for one round: the concept note's does not carry
-- over to the full proposal.
ALTER TABLE deadline_extensions ADD COLUMN round integer NOT NULL DEFAULT 1 CHECK (round IN (1, 2));

-- +goose Down
DROP TRIGGER proposal_rounds_no_delete;
DROP TRIGGER proposal_rounds_no_update;
DROP TABLE proposal_rounds;
ALTER TABLE deadline_extensions DROP COLUMN round;
ALTER TABLE calls DROP COLUMN full_proposal_closes_at;
