-- arXiv full text besides PDFs: HTML pages and LaTeX e-prints, fetched one by one or imported
-- from the S3 bulk tars, and the completion record of each bulk tar (a rerun resumes).

CREATE TABLE fulltext_files (
    paper_id          VARCHAR NOT NULL,
    "version"         VARCHAR NOT NULL,      -- "v2", or "" (unversioned: latest, or a bulk source tar)
    kind              VARCHAR NOT NULL,      -- html | src
    url               VARCHAR NOT NULL,      -- where it came from (https://..., s3://bucket/tar#member)
    path              VARCHAR,               -- relative to SCICURATE_HOME
    sha256            VARCHAR,
    bytes             BIGINT,
    status            VARCHAR NOT NULL,      -- ok | quarantined | absent (arXiv has no HTML for it)
    reason            VARCHAR,
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   TIMESTAMP,
    fetched_at        TIMESTAMP,
    PRIMARY KEY (paper_id, "version", kind)
);

CREATE TABLE bulk_tars (
    kind              VARCHAR NOT NULL,      -- pdf | src
    filename          VARCHAR NOT NULL,      -- e.g. pdf/arXiv_pdf_2104_001.tar
    md5               VARCHAR NOT NULL,      -- the manifest's md5sum, checked while streaming
    size              BIGINT,
    wanted            INTEGER NOT NULL,      -- members the catalog wanted from it
    stored            INTEGER NOT NULL,      -- of those, stored (the rest were absent or bad)
    completed_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (kind, filename)
);

-- Each paper's best document under the configured order (arxiv-src, arxiv-html, nougat,
-- pymupdf by default); builders read it. source_key: documents.source for arXiv's own full
-- text, the parser for a PDF parse.
CREATE TABLE best_documents (
    paper_id          VARCHAR PRIMARY KEY,
    doc_id            VARCHAR NOT NULL,
    source_key        VARCHAR NOT NULL,
    source_order      VARCHAR NOT NULL,      -- the order it was chosen under, comma-separated
    chosen_at         TIMESTAMP NOT NULL
);
