-- +goose Up
-- Applicants' answers to a G1 request for more information: append-only,
-- like the gate decisions they answer. The submitted content and its hash
-- stay as they were; a reply is kept beside the submission.
CREATE TABLE screening_replies (
    id          uuid        PRIMARY KEY,
    proposal_id uuid        NOT NULL REFERENCES proposals (id),
    decision_id uuid        NOT NULL REFERENCES gate_decisions (id),
    body        text        NOT NULL,
    replied_by  uuid        NOT NULL REFERENCES users (id),
    created_at  timestamptz NOT NULL
);
CREATE INDEX screening_replies_proposal_idx ON screening_replies (proposal_id, created_at);

-- +goose StatementBegin
CREATE FUNCTION screening_replies_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'screening_replies is append-only';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER screening_replies_no_update BEFORE UPDATE OR DELETE ON screening_replies
    FOR EACH ROW EXECUTE FUNCTION screening_replies_append_only();

-- +goose Down
DROP TRIGGER screening_replies_no_update ON screening_replies;
DROP FUNCTION screening_replies_append_only();
DROP TABLE screening_replies;
