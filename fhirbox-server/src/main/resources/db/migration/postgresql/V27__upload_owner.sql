-- The unfinished uploads of one project's client (and user), counted at each creation against
-- FHIRBOX_UPLOAD_MAX_OPEN (README, "Resumable uploads (tus)", Limits).
CREATE INDEX resumable_upload_owner ON resumable_upload (project, client_id, user_id);
