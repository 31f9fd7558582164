-- A file name may have 255 characters as a user counts them: Unicode code points
-- (binary/BinaryAttributes). H2 counts a VARCHAR's length in UTF-16 units, in which a character
-- outside the BMP (an emoji) is two, so 255 of them need 510. PostgreSQL counts characters, and its
-- VARCHAR(255) holds them already. Each statement can run again.
ALTER TABLE binary_content ALTER COLUMN filename SET DATA TYPE VARCHAR(510);
ALTER TABLE resumable_upload ALTER COLUMN filename SET DATA TYPE VARCHAR(510);
ALTER TABLE direct_upload ALTER COLUMN filename SET DATA TYPE VARCHAR(510);
