-- Feedback rejects say whether the sender consented, and only a record whose consent was given
-- keeps its id and an excerpt. Rows from before: consent is read from the stored excerpt, and
-- any row that does not show consent given loses its id and excerpt now.

ALTER TABLE feedback_rejects ADD COLUMN consent VARCHAR;
UPDATE feedback_rejects SET consent = CASE
    WHEN raw IS NOT NULL AND json_valid(raw)
         AND json_extract_string(raw, '$.user_consent') = 'true'
         AND json_type(json_extract(raw, '$.user_consent')) = 'BOOLEAN' THEN 'given'
    ELSE 'unknown' END;
UPDATE feedback_rejects SET raw = NULL, feedback_id = NULL WHERE consent <> 'given';
