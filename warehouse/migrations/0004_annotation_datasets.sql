-- Label Studio round trip and the catalog of published datasets.

CREATE TABLE annotation_tasks (
    feedback_id       VARCHAR PRIMARY KEY,
    project_id        BIGINT NOT NULL,
    task_id           BIGINT NOT NULL,
    prediction_model  VARCHAR,
    pushed_at         TIMESTAMP NOT NULL DEFAULT current_timestamp
);

CREATE TABLE annotations (
    annotation_id     BIGINT NOT NULL,
    revision          INTEGER NOT NULL,      -- an edit adds a revision; history is kept
    task_id           BIGINT NOT NULL,
    feedback_id       VARCHAR NOT NULL,
    annotator         VARCHAR,
    error_types       VARCHAR[],
    corrected_answer  VARCHAR,
    severity          INTEGER,
    regions           JSON,
    note              VARCHAR,
    was_cancelled     BOOLEAN NOT NULL DEFAULT false,
    is_deleted        BOOLEAN NOT NULL DEFAULT false,
    is_current        BOOLEAN NOT NULL DEFAULT true,
    result            JSON,
    updated_at        TIMESTAMP,
    synced_at         TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (annotation_id, revision)
);

CREATE TABLE datasets (
    name              VARCHAR PRIMARY KEY,
    description       VARCHAR,
    created_at        TIMESTAMP NOT NULL DEFAULT current_timestamp
);

CREATE TABLE dataset_versions (
    name              VARCHAR NOT NULL,
    "version"         INTEGER NOT NULL,
    parent_version    INTEGER,
    path              VARCHAR NOT NULL,
    content_hash      VARCHAR NOT NULL,
    manifest_sha256   VARCHAR NOT NULL,
    rows              BIGINT NOT NULL,
    splits            JSON NOT NULL,
    builder           VARCHAR,
    builder_version   VARCHAR,
    params            JSON,
    run_id            VARCHAR,
    created_at        TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (name, "version")
);
