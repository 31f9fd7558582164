-- Signed storage URLs look Binary versions up by id alone.
CREATE INDEX binary_content_id ON binary_content (res_id, version_id);
