-- A search reads the rows whose ids the search_value index gives: r.res_id IN (SELECT ...). H2
-- looks rows up by such ids only through an index whose first column is res_id; through the
-- primary key (project, res_type, res_id) it read every resource of the type (see db/SearchSql).
CREATE INDEX resource_current_id ON resource_current (res_id);
