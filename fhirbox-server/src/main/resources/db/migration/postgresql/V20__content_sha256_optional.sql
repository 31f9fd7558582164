-- An upload computes the SHA-1 only (Attachment.hash); the SHA-256 is kept where it was
-- computed anyway (a digest the client declared, a blob read once more) and is NULL otherwise.
-- The strong ETag of the content is the blob's key, which every row has.
ALTER TABLE binary_content ALTER COLUMN sha256 DROP NOT NULL;
