-- +goose Up
-- Reference data. Codes are stable identifiers; names come in the three working languages.
CREATE TABLE ilo_regions (
    code    text PRIMARY KEY,
    name_en text NOT NULL,
    name_fr text NOT NULL,
    name_es text NOT NULL
);

CREATE TABLE ilo_subregions (
    code        text PRIMARY KEY,
    region_code text NOT NULL REFERENCES ilo_regions (code),
    name_en     text NOT NULL,
    name_fr     text NOT NULL,
    name_es     text NOT NULL
);

CREATE TABLE countries (
    iso2          text PRIMARY KEY CHECK (length(iso2) = 2),
    iso3          text NOT NULL UNIQUE CHECK (length(iso3) = 3),
    name_en       text NOT NULL,
    name_fr       text NOT NULL,
    name_es       text NOT NULL,
    ilo_region    text NOT NULL REFERENCES ilo_regions (code),
    ilo_subregion text NOT NULL REFERENCES ilo_subregions (code)
);

-- Income groups change every 1 July, so they are kept per World Bank fiscal year.
CREATE TABLE income_groups (
    iso3         text    NOT NULL REFERENCES countries (iso3),
    fiscal_year  integer NOT NULL,
    income_group text    NOT NULL CHECK (income_group IN ('low', 'lower_middle', 'upper_middle', 'high')),
    PRIMARY KEY (iso3, fiscal_year)
);

CREATE TABLE organisation_types (
    code              text    PRIMARY KEY,
    name_en           text    NOT NULL,
    name_fr           text    NOT NULL,
    name_es           text    NOT NULL,
    is_constituent    boolean NOT NULL,
    constituent_group text    NOT NULL
);

CREATE TABLE thematic_facilities (
    code    text PRIMARY KEY,
    name_en text NOT NULL,
    name_fr text NOT NULL,
    name_es text NOT NULL
);

CREATE TABLE iso_processes (
    code      text    PRIMARY KEY,
    position  integer NOT NULL UNIQUE,
    clause    text    NOT NULL,
    name_en   text    NOT NULL,
    name_fr   text    NOT NULL,
    name_es   text    NOT NULL,
    gate_code text    NOT NULL
);

CREATE TABLE indicators (
    code           text PRIMARY KEY,
    goal           integer NOT NULL,
    name_en        text NOT NULL,
    name_fr        text NOT NULL,
    name_es        text NOT NULL,
    ilo_role       text NOT NULL,
    ilostat_series text NOT NULL
);

-- Accounts.
CREATE TABLE users (
    id                TEXT        PRIMARY KEY,
    email             text        NOT NULL,
    name              text        NOT NULL,
    password_hash     text        NOT NULL,
    locale            text        NOT NULL DEFAULT 'en' CHECK (locale IN ('en', 'fr', 'es')),
    timezone          text        NOT NULL DEFAULT 'UTC',
    email_verified_at TIMESTAMP,
    totp_secret       text        NOT NULL DEFAULT '',
    totp_enabled_at   TIMESTAMP,
    totp_last_step    bigint      NOT NULL DEFAULT 0,
    disabled_at       TIMESTAMP,
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE sessions (
    id           TEXT        PRIMARY KEY,
    token_hash   text        NOT NULL,
    user_id      TEXT        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    mfa_passed   boolean     NOT NULL,
    ip           text        NOT NULL,
    user_agent   text        NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    revoked_at   TIMESTAMP
);
CREATE UNIQUE INDEX sessions_token_hash_key ON sessions (token_hash);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);

CREATE TABLE api_tokens (
    id           TEXT        PRIMARY KEY,
    user_id      TEXT        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         text        NOT NULL,
    token_hash   text        NOT NULL,
    prefix       text        NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    expires_at   TIMESTAMP,
    revoked_at   TIMESTAMP
);
CREATE UNIQUE INDEX api_tokens_token_hash_key ON api_tokens (token_hash);
CREATE INDEX api_tokens_user_id_idx ON api_tokens (user_id);

-- One-time links sent by e-mail: address verification and password reset.
CREATE TABLE email_tokens (
    id         TEXT        PRIMARY KEY,
    user_id    TEXT        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    text        NOT NULL CHECK (purpose IN ('verify', 'reset')),
    token_hash text        NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at    TIMESTAMP
);
CREATE UNIQUE INDEX email_tokens_token_hash_key ON email_tokens (token_hash);

-- Sign-in attempts, kept for throttling per account and per client address.
CREATE TABLE login_attempts (
    id         TEXT        PRIMARY KEY,
    account    text        NOT NULL,
    ip         text        NOT NULL,
    succeeded  boolean     NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX login_attempts_account_idx ON login_attempts (account, created_at);
CREATE INDEX login_attempts_ip_idx ON login_attempts (ip, created_at);

-- Organisations.
CREATE TABLE organisations (
    id           TEXT        PRIMARY KEY,
    name         text        NOT NULL,
    type_code    text        NOT NULL REFERENCES organisation_types (code),
    country_iso2 text        NOT NULL REFERENCES countries (iso2),
    year_founded integer     NOT NULL,
    website      text        NOT NULL,
    created_by   TEXT        NOT NULL REFERENCES users (id),
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);

CREATE TABLE organisation_members (
    organisation_id TEXT        NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    user_id         TEXT        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role            text        NOT NULL CHECK (role IN ('owner', 'member')),
    created_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (organisation_id, user_id)
);
CREATE INDEX organisation_members_user_id_idx ON organisation_members (user_id);

CREATE TABLE organisation_invitations (
    id              TEXT        PRIMARY KEY,
    organisation_id TEXT        NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    email           text        NOT NULL,
    role            text        NOT NULL CHECK (role IN ('owner', 'member')),
    token_hash      text        NOT NULL,
    invited_by      TEXT        NOT NULL REFERENCES users (id),
    created_at      TIMESTAMP NOT NULL,
    expires_at      TIMESTAMP NOT NULL,
    accepted_at     TIMESTAMP,
    revoked_at      TIMESTAMP
);
CREATE UNIQUE INDEX organisation_invitations_token_hash_key ON organisation_invitations (token_hash);

-- Declared relations between organisations: consortium partners for joint bids,
-- and affiliation (a federation and its member union) used for conflict detection.
CREATE TABLE organisation_relations (
    id                      TEXT        PRIMARY KEY,
    organisation_id         TEXT        NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    related_organisation_id TEXT        NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    kind                    text        NOT NULL CHECK (kind IN ('consortium_partner', 'affiliate')),
    created_by              TEXT        NOT NULL REFERENCES users (id),
    created_at              TIMESTAMP NOT NULL,
    CHECK (organisation_id <> related_organisation_id)
);
CREATE UNIQUE INDEX organisation_relations_pair_key ON organisation_relations (organisation_id, related_organisation_id, kind);

-- Authorisation: Casbin rules (permission rows from code, role grants as data)
-- and a version every instance polls so a change reaches them all.
CREATE TABLE casbin_rule (
    id    INTEGER PRIMARY KEY AUTOINCREMENT,
    ptype varchar(100) NOT NULL DEFAULT '',
    v0    varchar(100) NOT NULL DEFAULT '',
    v1    varchar(100) NOT NULL DEFAULT '',
    v2    varchar(100) NOT NULL DEFAULT '',
    v3    varchar(100) NOT NULL DEFAULT '',
    v4    varchar(100) NOT NULL DEFAULT '',
    v5    varchar(100) NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX idx_casbin_rule ON casbin_rule (ptype, v0, v1, v2, v3, v4, v5);

CREATE TABLE policy_version (
    id      integer PRIMARY KEY CHECK (id = 1),
    version bigint  NOT NULL
);
INSERT INTO policy_version (id, version) VALUES (1, 1);

-- Audit: append-only and hash-chained; each row's hash covers the previous one.
CREATE TABLE audit_log (
    seq         bigint      PRIMARY KEY,
    id          TEXT        NOT NULL,
    at          TIMESTAMP NOT NULL,
    actor_id    text        NOT NULL,
    action      text        NOT NULL,
    object_type text        NOT NULL,
    object_id   text        NOT NULL,
    domain      text        NOT NULL,
    ip          text        NOT NULL,
    request_id  text        NOT NULL,
    details     text        NOT NULL,
    prev_hash   text        NOT NULL,
    hash        text        NOT NULL
);
CREATE UNIQUE INDEX audit_log_id_key ON audit_log (id);
CREATE INDEX audit_log_at_idx ON audit_log (at);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, seq);
CREATE INDEX audit_log_object_idx ON audit_log (object_type, object_id, seq);

-- +goose StatementBegin
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
-- +goose StatementEnd

-- Mail: every message lands here first; with SMTP configured a job delivers it.
CREATE TABLE outbox (
    id         TEXT        PRIMARY KEY,
    to_address text        NOT NULL,
    subject    text        NOT NULL,
    body       text        NOT NULL,
    kind       text        NOT NULL,
    created_at TIMESTAMP NOT NULL,
    sent_at    TIMESTAMP,
    attempts   integer     NOT NULL DEFAULT 0,
    last_error text        NOT NULL DEFAULT ''
);
CREATE INDEX outbox_unsent_idx ON outbox (created_at) WHERE sent_at IS NULL;

-- +goose Down
DROP TABLE outbox;
DROP TRIGGER audit_log_no_delete;
DROP TRIGGER audit_log_no_update;
DROP TABLE audit_log;
DROP TABLE policy_version;
DROP TABLE casbin_rule;
DROP TABLE organisation_relations;
DROP TABLE organisation_invitations;
DROP TABLE organisation_members;
DROP TABLE organisations;
DROP TABLE login_attempts;
DROP TABLE email_tokens;
DROP TABLE api_tokens;
DROP TABLE sessions;
DROP TABLE users;
DROP TABLE indicators;
DROP TABLE iso_processes;
DROP TABLE thematic_facilities;
DROP TABLE organisation_types;
DROP TABLE income_groups;
DROP TABLE countries;
DROP TABLE ilo_subregions;
DROP TABLE ilo_regions;
