-- A presigned upload issued to a person's token names that user, as it names the client: the user
-- must still exist and be enabled, and still be allowed the Binary scope, when the upload is
-- confirmed (README, "Direct uploads (presigned)"). NULL: a client acting for itself, or an upload
-- recorded before this column.
ALTER TABLE direct_upload ADD COLUMN user_id VARCHAR(64);
