-- +goose Up
-- Challenge calls (ISO 56002 8.3.2, identify opportunities). Texts a person
-- reads come in each of the call's languages, kept as JSON objects
-- {"en": "...", "fr": "..."}.
CREATE TABLE calls (
    id              uuid        PRIMARY KEY,
    reference       text        NOT NULL,
    facility_code   text        NOT NULL REFERENCES thematic_facilities (code),
    origin          text        NOT NULL CHECK (origin IN ('external', 'internal')),
    scope           text        NOT NULL CHECK (scope IN ('global', 'regional', 'national')),
    languages       text        NOT NULL,
    title           text        NOT NULL,
    challenge       text        NOT NULL,
    status          text        NOT NULL CHECK (status IN ('draft', 'in_review', 'approved', 'published', 'cancelled')),
    two_round       boolean     NOT NULL,
    opens_at        timestamptz NOT NULL,
    closes_at       timestamptz NOT NULL,
    timezone        text        NOT NULL,
    grace_minutes   integer     NOT NULL CHECK (grace_minutes BETWEEN 0 AND 1440),
    currency        text        NOT NULL CHECK (length(currency) = 3),
    budget_minor    bigint      NOT NULL CHECK (budget_minor > 0),
    min_grant_minor bigint      NOT NULL CHECK (min_grant_minor >= 0),
    max_grant_minor bigint      NOT NULL,
    regions         text        NOT NULL,
    countries       text        NOT NULL,
    org_types       text        NOT NULL,
    indicators      text        NOT NULL,
    donors          text        NOT NULL,
    form            text        NOT NULL,
    eligibility     text        NOT NULL,
    criteria        text        NOT NULL,
    version         integer     NOT NULL,
    created_by      uuid        NOT NULL REFERENCES users (id),
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    published_at    timestamptz,
    CHECK (closes_at > opens_at),
    CHECK (max_grant_minor >= min_grant_minor)
);
CREATE UNIQUE INDEX calls_reference_key ON calls (reference);
CREATE INDEX calls_public_idx ON calls (status, closes_at);
CREATE INDEX calls_facility_idx ON calls (facility_code, status);

-- Gate decisions between ISO 56002 processes: append-only. A correction is
-- a new record; the latest record for a subject and gate stands.
CREATE TABLE gate_decisions (
    id           uuid        PRIMARY KEY,
    subject_type text        NOT NULL CHECK (subject_type IN ('call', 'proposal')),
    subject_id   uuid        NOT NULL,
    gate         text        NOT NULL CHECK (gate IN ('G0', 'G1', 'G2', 'G3', 'G4', 'G5')),
    decision     text        NOT NULL,
    reason       text        NOT NULL,
    conditions   text        NOT NULL,
    decided_by   uuid        NOT NULL REFERENCES users (id),
    created_at   timestamptz NOT NULL
);
CREATE INDEX gate_decisions_subject_idx ON gate_decisions (subject_type, subject_id, gate, created_at);

-- +goose StatementBegin
CREATE FUNCTION gate_decisions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'gate_decisions is append-only';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER gate_decisions_no_update BEFORE UPDATE OR DELETE ON gate_decisions
    FOR EACH ROW EXECUTE FUNCTION gate_decisions_append_only();

-- Proposals (ISO 56002 8.3.3, create concepts). Answers are one JSON
-- document, versioned so two editors never silently overwrite each other.
CREATE TABLE proposals (
    id                uuid        PRIMARY KEY,
    call_id           uuid        NOT NULL REFERENCES calls (id),
    organisation_id   uuid        NOT NULL REFERENCES organisations (id),
    round             integer     NOT NULL CHECK (round IN (1, 2)),
    title             text        NOT NULL,
    language          text        NOT NULL CHECK (language IN ('en', 'fr', 'es')),
    requested_minor   bigint      NOT NULL CHECK (requested_minor >= 0),
    answers           text        NOT NULL,
    partners          text        NOT NULL,
    status            text        NOT NULL CHECK (status IN ('draft', 'submitted', 'withdrawn')),
    screening         text        NOT NULL CHECK (screening IN ('pending', 'eligible', 'ineligible', 'more_information')),
    screening_reason  text        NOT NULL,
    eligibility       text        NOT NULL,
    version           integer     NOT NULL,
    created_by        uuid        NOT NULL REFERENCES users (id),
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    updated_by        uuid        NOT NULL REFERENCES users (id),
    submitted_at      timestamptz,
    submitted_by      uuid        REFERENCES users (id),
    content_hash      text        NOT NULL,
    receipt_number    text        NOT NULL,
    withdrawn_at      timestamptz
);
CREATE INDEX proposals_call_idx ON proposals (call_id, status, screening);
CREATE INDEX proposals_organisation_idx ON proposals (organisation_id);
CREATE UNIQUE INDEX proposals_receipt_key ON proposals (receipt_number) WHERE receipt_number <> '';

-- People of the applicant side working on a proposal, with their rights.
CREATE TABLE proposal_members (
    proposal_id uuid        NOT NULL REFERENCES proposals (id) ON DELETE CASCADE,
    user_id     uuid        NOT NULL REFERENCES users (id),
    rights      text        NOT NULL CHECK (rights IN ('view', 'edit', 'submit')),
    added_by    uuid        NOT NULL REFERENCES users (id),
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (proposal_id, user_id)
);
CREATE INDEX proposal_members_user_idx ON proposal_members (user_id);

-- Files attached to a proposal, streamed to blob storage; the row is written
-- only once the whole file is stored and its SHA-256 known.
CREATE TABLE attachments (
    id           uuid        PRIMARY KEY,
    proposal_id  uuid        NOT NULL REFERENCES proposals (id) ON DELETE CASCADE,
    question_id  text        NOT NULL,
    filename     text        NOT NULL,
    content_type text        NOT NULL,
    size_bytes   bigint      NOT NULL CHECK (size_bytes > 0),
    sha256       text        NOT NULL,
    blob_key     text        NOT NULL,
    status       text        NOT NULL CHECK (status IN ('pending_scan', 'clean', 'infected')),
    uploaded_by  uuid        NOT NULL REFERENCES users (id),
    created_at   timestamptz NOT NULL,
    deleted_at   timestamptz
);
CREATE INDEX attachments_proposal_idx ON attachments (proposal_id) WHERE deleted_at IS NULL;

-- Idempotency keys: a retried or double-clicked request gets the first
-- answer; the same key with another body is refused.
CREATE TABLE idempotency_keys (
    user_id      uuid        NOT NULL REFERENCES users (id),
    key          text        NOT NULL,
    request_hash text        NOT NULL,
    status_code  integer     NOT NULL,
    response     text        NOT NULL,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (user_id, key)
);

-- Individual deadline extensions granted by a manager.
CREATE TABLE deadline_extensions (
    id          uuid        PRIMARY KEY,
    proposal_id uuid        NOT NULL REFERENCES proposals (id) ON DELETE CASCADE,
    closes_at   timestamptz NOT NULL,
    reason      text        NOT NULL,
    granted_by  uuid        NOT NULL REFERENCES users (id),
    created_at  timestamptz NOT NULL
);
CREATE INDEX deadline_extensions_proposal_idx ON deadline_extensions (proposal_id, created_at);

-- +goose Down
DROP TABLE deadline_extensions;
DROP TABLE idempotency_keys;
DROP TABLE attachments;
DROP TABLE proposal_members;
DROP TABLE proposals;
DROP TRIGGER gate_decisions_no_update ON gate_decisions;
DROP FUNCTION gate_decisions_append_only();
DROP TABLE gate_decisions;
DROP TABLE calls;
