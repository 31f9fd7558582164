-- The method of the request that made a version, where its history entry cannot tell it from the
-- versions (FHIR R4 http.html#history, Bundle.entry.request.method): PATCH. NULL, as every version
-- stored before keeps: told from the versions, a deletion DELETE, a first version POST or PUT, a
-- later one PUT.
ALTER TABLE resource_version ADD COLUMN method VARCHAR(8);
