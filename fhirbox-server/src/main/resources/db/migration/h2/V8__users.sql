-- People who sign in (SMART App Launch). A user belongs to one project; email is stored
-- lower-cased and is unique in its project. fhir_user is the FHIR resource the person is
-- (Practitioner/.., Patient/.. or RelatedPerson/..); scopes is what they may be granted, as for
-- clients. password_hash is a stretched PasswordHasher string, null until a password is set.
-- Refresh tokens issued before sessions_since (epoch ms) are void: a password reset sets it.
CREATE TABLE app_user (
  id             VARCHAR(64)   NOT NULL PRIMARY KEY,
  project        VARCHAR(64)   NOT NULL REFERENCES project (name),
  email          VARCHAR(320)  NOT NULL,
  name           VARCHAR(256)  NOT NULL,
  fhir_user      VARCHAR(200)  NOT NULL,
  scopes         VARCHAR(4000) NOT NULL,
  admin          BOOLEAN       NOT NULL,
  disabled       BOOLEAN       NOT NULL,
  password_hash  VARCHAR(255),
  sessions_since BIGINT        NOT NULL,
  created        BIGINT        NOT NULL,
  updated        BIGINT        NOT NULL,
  CONSTRAINT app_user_email UNIQUE (project, email)
);
