-- The feedback loop: ingest audit, PII flag and dedup key, task consensus, sync watermarks.

ALTER TABLE feedback ADD COLUMN scrubbed BOOLEAN NOT NULL DEFAULT false;  -- PII was removed
ALTER TABLE feedback ADD COLUMN dedup_key VARCHAR;                          -- normalised query+answer
ALTER TABLE feedback ADD COLUMN user_consent BOOLEAN NOT NULL DEFAULT true;

CREATE TABLE feedback_ingests (
    ingest_id         VARCHAR PRIMARY KEY,
    source_file       VARCHAR NOT NULL,
    records           BIGINT NOT NULL,
    stored            BIGINT NOT NULL,
    duplicates        BIGINT NOT NULL,
    rejected          BIGINT NOT NULL,
    no_consent        BIGINT NOT NULL,       -- counted for the audit, never stored
    scrubbed          BIGINT NOT NULL,
    ingested_at       TIMESTAMP NOT NULL DEFAULT current_timestamp
);

-- One row per annotated task: the consensus of its current annotations.
CREATE TABLE task_consensus (
    feedback_id       VARCHAR PRIMARY KEY,
    task_id           BIGINT NOT NULL,
    annotators        INTEGER NOT NULL,
    status            VARCHAR NOT NULL,      -- consensus | tie | not_error | skipped
    error_types       VARCHAR[],             -- the majority's error types
    agreement         DOUBLE,                -- share of annotators agreeing with the majority
    corrected_answer  VARCHAR,
    regions           JSON,
    severity          DOUBLE,
    decided_at        TIMESTAMP NOT NULL DEFAULT current_timestamp
);
