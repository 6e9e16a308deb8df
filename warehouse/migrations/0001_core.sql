-- Core catalog: papers from every source, their PDFs, crawl watermarks, rejects and run lineage.

CREATE TABLE papers (
    paper_id          VARCHAR PRIMARY KEY,   -- arXiv id without version ("2104.12255", "hep-th/9901001") or "openreview:<forum>"
    source            VARCHAR NOT NULL,      -- arxiv-api | arxiv-oai | arxiv-snapshot | openreview
    arxiv_id          VARCHAR,               -- cross-link for papers found elsewhere
    submitter         VARCHAR,
    authors           VARCHAR,               -- raw author string, as the source gives it
    title             VARCHAR,
    comments          VARCHAR,
    journal_ref       VARCHAR,
    doi               VARCHAR,
    report_no         VARCHAR,
    categories        VARCHAR[],
    license           VARCHAR,
    abstract          VARCHAR,
    versions          STRUCT("version" VARCHAR, created TIMESTAMP, size VARCHAR)[],
    update_date       DATE,
    authors_parsed    VARCHAR[][],           -- [last, first, suffix] per author, as in the Kaggle snapshot
    primary_category  VARCHAR,
    published         TIMESTAMP,
    updated           TIMESTAMP,
    venue             VARCHAR,
    decision          VARCHAR,
    content_hash      VARCHAR NOT NULL,      -- hash of the normalised record; unchanged re-crawls are no-ops
    first_seen        TIMESTAMP NOT NULL DEFAULT current_timestamp,
    last_changed      TIMESTAMP NOT NULL DEFAULT current_timestamp
);

CREATE TABLE pdfs (
    paper_id          VARCHAR NOT NULL,
    "version"         VARCHAR NOT NULL,      -- "v2", or "" when the latest was requested unversioned
    url               VARCHAR NOT NULL,
    path              VARCHAR,               -- relative to SCICURATE_HOME
    sha256            VARCHAR,
    bytes             BIGINT,
    pages             INTEGER,
    status            VARCHAR NOT NULL,      -- ok | quarantined
    reason            VARCHAR,
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   TIMESTAMP,
    fetched_at        TIMESTAMP,
    PRIMARY KEY (paper_id, "version")
);

CREATE TABLE crawl_state (
    source            VARCHAR NOT NULL,      -- arxiv-oai | openreview | ...
    scope             VARCHAR NOT NULL,      -- set, category or venue the watermark covers
    watermark         VARCHAR,               -- e.g. the last datestamp fully stored
    cursor            VARCHAR,               -- e.g. a resumption token for the page in progress
    updated_at        TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (source, scope)
);

CREATE TABLE rejects (
    source            VARCHAR NOT NULL,      -- which importer or crawler rejected it
    input             VARCHAR NOT NULL,      -- file path or URL
    line_no           BIGINT NOT NULL,       -- line or record number within the input (0 when not applicable)
    reason            VARCHAR NOT NULL,
    raw               VARCHAR,               -- the offending record, truncated
    rejected_at       TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (source, input, line_no)
);

CREATE TABLE runs (
    run_id            VARCHAR PRIMARY KEY,
    flow              VARCHAR NOT NULL,
    params            JSON,
    started_at        TIMESTAMP NOT NULL,
    finished_at       TIMESTAMP,
    status            VARCHAR NOT NULL,      -- running | completed | failed
    counts            JSON,
    error             VARCHAR
);
