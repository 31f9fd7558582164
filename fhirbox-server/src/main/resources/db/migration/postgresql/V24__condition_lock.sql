-- One row per condition of a conditional create or update (the hex SHA-256 of its project, type
-- and criteria, normalised): the transaction that searches for what the condition matches first
-- inserts the row if absent and locks it, so that two writes with the same condition run one after
-- the other, on one node or several, and the second finds what the first created.
CREATE TABLE condition_lock (
  lock_key VARCHAR(64) PRIMARY KEY
);
