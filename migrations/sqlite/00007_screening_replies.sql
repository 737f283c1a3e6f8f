-- +goose Up
-- Applicants' answers to a G1 request for more information: append-only,
-- like the gate decisions they answer. The submitted content and its hash
-- stay as they were; a reply is kept beside the submission.
CREATE TABLE screening_replies (
    id          TEXT        PRIMARY KEY,
    proposal_id TEXT        NOT NULL REFERENCES proposals (id),
    decision_id TEXT        NOT NULL REFERENCES gate_decisions (id),
    body        text        NOT NULL,
    replied_by  TEXT        NOT NULL REFERENCES users (id),
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX screening_replies_proposal_idx ON screening_replies (proposal_id, created_at);

-- +goose StatementBegin
CREATE TRIGGER screening_replies_no_update BEFORE UPDATE ON screening_replies
BEGIN
    SELECT RAISE(ABORT, 'screening_replies is append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER screening_replies_no_delete BEFORE DELETE ON screening_replies
BEGIN
    SELECT RAISE(ABORT, 'screening_replies is append-only');
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER screening_replies_no_delete;
DROP TRIGGER screening_replies_no_update;
DROP TABLE screening_replies;
