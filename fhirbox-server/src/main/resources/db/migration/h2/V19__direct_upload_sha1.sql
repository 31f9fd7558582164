-- A presigned upload may declare the content's SHA-1 (README, "Direct uploads (presigned)"): in S3
-- mode it is signed into the PUT as x-amz-checksum-sha1 when no SHA-256 is declared, and the
-- confirmation reads the object to check it before the Binary exists. NULL: none declared.
ALTER TABLE direct_upload ADD COLUMN sha1 VARCHAR(40);
