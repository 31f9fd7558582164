-- Signed URLs name a Binary by id and version alone, so no two projects may hold the same Binary
-- version: the index that looks Binary versions up by id becomes unique. Of two concurrent
-- creations of one id in two projects, the later insert fails (unique violation, answered 409).
DROP INDEX binary_content_id;
CREATE UNIQUE INDEX binary_content_id ON binary_content (res_id, version_id);
