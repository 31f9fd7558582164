-- The multipart uploads to S3 that a node is feeding now (a raw upload whose body still arrives):
-- the node inserts the row before the upload begins, renews lease_until (epoch milliseconds) while
-- it runs and deletes the row when it ends. The orphan sweeper of every node spares an upload
-- whose row it finds with a lease not older than its grace period; a dead node's rows lapse.
CREATE TABLE blob_write_lease (
  blob_key    VARCHAR(32) PRIMARY KEY,
  lease_until BIGINT      NOT NULL
);
