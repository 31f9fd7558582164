-- H2 needs an index on resource_current (res_id) to read a search's matches by id (see the H2
-- migration of this version). PostgreSQL joins through the primary key: nothing to do, and a
-- version of its own keeps both histories in step.
SELECT 1;
