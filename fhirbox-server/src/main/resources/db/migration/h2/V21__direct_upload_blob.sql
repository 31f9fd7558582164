-- The orphan sweeper spares the object of a presigned upload straight to S3 while it may still be
-- confirmed (its row unconfirmed, its URL expired less than FHIRBOX_ORPHAN_GRACE ago), and asks
-- so for every old unreferenced object it lists: this index answers by key, as
-- resumable_upload_blob does for resumable uploads.
CREATE INDEX direct_upload_blob ON direct_upload (blob_key);
