-- Presigned uploads straight to S3 may leave out the SHA-256 (README, "Direct uploads
-- (presigned)"): the single PUT then goes to a staging object, and the confirmation copies it to
-- the blob and reads it once for its digests. sha256 is NULL for such an upload.
ALTER TABLE direct_upload ALTER COLUMN sha256 SET NULL;
