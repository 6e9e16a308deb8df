-- Element facts (a furniture line's reason, appendix, equation number, OCR) and what a
-- document was parsed from (pdf | arxiv-html | arxiv-src).

ALTER TABLE elements ADD COLUMN attrs JSON;
ALTER TABLE documents ADD COLUMN source VARCHAR DEFAULT 'pdf';
UPDATE documents SET source = 'pdf' WHERE source IS NULL;
