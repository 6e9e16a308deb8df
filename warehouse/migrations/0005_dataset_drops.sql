-- Rows a builder left out, with the reason (exact or near duplicate, filters), per dataset.

CREATE TABLE dataset_drops (
    dataset           VARCHAR NOT NULL,
    source_id         VARCHAR NOT NULL,      -- the document, paper or feedback id left out
    reason            VARCHAR NOT NULL,      -- exact duplicate | near duplicate | a filter's name
    duplicate_of      VARCHAR,               -- the kept source it duplicates, for duplicates
    similarity        DOUBLE,                -- estimated Jaccard similarity, for near duplicates
    built_at          TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (dataset, source_id)
);
