-- PDFs mirrored to object storage: the URI of each verified file's canonical copy.

ALTER TABLE pdfs ADD COLUMN store_uri VARCHAR;
