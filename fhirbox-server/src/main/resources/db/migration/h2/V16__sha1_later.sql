-- Presigned uploads straight to S3 are confirmed without reading the object (README, "Direct
-- uploads (presigned)"): the store vouches for the size and the declared SHA-256, and the Binary
-- is readable at once. Its SHA-1 (Attachment.hash) is learnt afterwards by the background check,
-- which reads the object once: until then binary_content.sha1 is NULL.
ALTER TABLE binary_content ALTER COLUMN sha1 SET NULL;
-- confirmed: the Binary exists and the row waits only for that read (the check's next_check and
-- take() apply as before); false: the upload is not confirmed yet.
ALTER TABLE direct_upload ADD COLUMN confirmed BOOLEAN DEFAULT FALSE NOT NULL;
