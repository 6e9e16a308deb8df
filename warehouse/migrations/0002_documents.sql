-- Parsed documents and their elements (one row per parser version of a PDF).

CREATE TABLE documents (
    doc_id            VARCHAR PRIMARY KEY,   -- sha256 of (pdf sha256, parser, parser_version)
    paper_id          VARCHAR NOT NULL,
    pdf_sha256        VARCHAR NOT NULL,
    parser            VARCHAR NOT NULL,
    parser_version    VARCHAR NOT NULL,
    model_id          VARCHAR,
    status            VARCHAR NOT NULL,      -- ok | low_quality | needs_ocr | failed
    reason            VARCHAR,
    pages             INTEGER,
    fallback_pages    INTEGER NOT NULL DEFAULT 0,
    duration_s        DOUBLE,
    quality           JSON,                  -- chars/page, non-printable share, repetition, math share, language
    markdown          VARCHAR,
    parsed_at         TIMESTAMP NOT NULL DEFAULT current_timestamp
);

CREATE TABLE elements (
    doc_id            VARCHAR NOT NULL,
    seq               INTEGER NOT NULL,      -- reading order within the document
    page              INTEGER NOT NULL,
    kind              VARCHAR NOT NULL,      -- title | heading | paragraph | list | caption | table | figure | equation | footnote | reference
    level             INTEGER,
    bbox              DOUBLE[4],
    text              VARCHAR,
    markdown          VARCHAR,
    is_fallback       BOOLEAN NOT NULL DEFAULT false,
    PRIMARY KEY (doc_id, seq)
);
