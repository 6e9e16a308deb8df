-- How each document was made: per-page status, router decision, device; the run that made it.

ALTER TABLE documents ADD COLUMN provenance JSON;
ALTER TABLE documents ADD COLUMN run_id VARCHAR;
