-- LLM summaries for the daily digest, cached per paper version, prompt version and language,
-- so a rerun of a digest costs no request.

CREATE TABLE digest_summaries (
    paper_id          VARCHAR NOT NULL,
    "version"         VARCHAR NOT NULL,
    prompt_version    VARCHAR NOT NULL,
    language          VARCHAR NOT NULL,
    model             VARCHAR NOT NULL,
    summary           VARCHAR NOT NULL,
    created_at        TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (paper_id, "version", prompt_version, language)
);
