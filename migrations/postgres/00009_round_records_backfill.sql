-- +goose Up
-- Proposals submitted before round records were written get theirs, made as
-- a submission makes them (proposals.RecordRounds), so every submitted
-- round has its record and no reader needs to allow for a missing one.
INSERT INTO proposal_rounds (proposal_id, round, submitted_at, submitted_by, content_hash, receipt_number,
    title, requested_minor, answers, created_at)
SELECT p.id, p.round, p.submitted_at, p.submitted_by, p.content_hash, p.receipt_number,
    p.title, p.requested_minor, COALESCE(NULLIF(p.answers, 'null'), '{}'), p.submitted_at
FROM proposals p
WHERE p.status IN ('submitted', 'withdrawn') AND p.submitted_at IS NOT NULL AND p.submitted_by IS NOT NULL
    AND p.receipt_number <> ''
    AND NOT EXISTS (SELECT 1 FROM proposal_rounds r WHERE r.proposal_id = p.id AND r.round = p.round);

-- +goose Down
-- Nothing to undo: the records are true, and the table is append-only.
SELECT 1;
