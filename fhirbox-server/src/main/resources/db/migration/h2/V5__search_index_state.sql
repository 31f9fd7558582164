-- Which version of the search extractor (SearchIndexer.VERSION) built the stored index. Version 1
-- indexed tokens and references; when the server's extractor is newer, SearchReindexer re-extracts
-- every current resource in the background and then records the new version here.
CREATE TABLE search_index_state (
  id       INT PRIMARY KEY,
  version  INT NOT NULL
);
INSERT INTO search_index_state (id, version) VALUES (1, 1);
