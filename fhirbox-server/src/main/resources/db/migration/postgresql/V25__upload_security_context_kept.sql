-- A resumable upload of a new version that names no securityContext keeps the one the Binary has
-- when the upload completes: security_context is then only what it resolved to at creation.
-- Uploads created before this column keep the one they resolved to, as they did.
ALTER TABLE resumable_upload ADD COLUMN security_context_kept BOOLEAN DEFAULT FALSE NOT NULL;
