-- OpenReview replies and model feedback.

ALTER TABLE papers ADD COLUMN venueid VARCHAR;
ALTER TABLE papers ADD COLUMN forum_id VARCHAR;
ALTER TABLE papers ADD COLUMN keywords VARCHAR[];
ALTER TABLE papers ADD COLUMN pdf_url VARCHAR;

CREATE TABLE reviews (
    review_id         VARCHAR PRIMARY KEY,   -- OpenReview note id
    paper_id          VARCHAR NOT NULL,
    forum_id          VARCHAR NOT NULL,
    kind              VARCHAR NOT NULL,      -- review | meta_review | decision | comment | rebuttal
    invitation        VARCHAR,
    signatures        VARCHAR[],
    content           JSON NOT NULL,         -- raw content, v2 {"value": ...} wrappers removed
    rating            DOUBLE,
    confidence        DOUBLE,
    soundness         DOUBLE,
    presentation      DOUBLE,
    contribution      DOUBLE,
    created           TIMESTAMP,
    modified          TIMESTAMP,
    significance      VARCHAR,               -- the four structured aspects
    reasons_accept    VARCHAR,
    reasons_reject    VARCHAR,
    suggestions       VARCHAR,
    structure_method  VARCHAR,
    prompt_version    VARCHAR,
    structure_error   VARCHAR
);

CREATE TABLE feedback (
    feedback_id       VARCHAR PRIMARY KEY,
    created_at        TIMESTAMP NOT NULL,
    model_version     VARCHAR,
    task              VARCHAR NOT NULL,
    query             VARCHAR NOT NULL,
    contexts          JSON,
    answer            VARCHAR NOT NULL,
    rating            VARCHAR NOT NULL,      -- up | down
    comment           VARCHAR,
    paper_id          VARCHAR,
    page_image        VARCHAR,
    metadata          JSON,
    source_file       VARCHAR,
    state             VARCHAR NOT NULL,      -- pool | queued | pushed | annotated | routed
    ingested_at       TIMESTAMP NOT NULL DEFAULT current_timestamp
);

CREATE TABLE feedback_rejects (
    source_file       VARCHAR NOT NULL,
    line_no           BIGINT NOT NULL,
    feedback_id       VARCHAR,
    reason            VARCHAR NOT NULL,
    raw               VARCHAR,
    rejected_at       TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (source_file, line_no)
);
