-- Search also finds the files a session moved (scp/SFTP): their path, operation and SHA-256 are indexed
-- as kind 'file' beside typed and exec commands.
ALTER TABLE session_commands DROP CONSTRAINT session_commands_kind_check;
ALTER TABLE session_commands ADD CONSTRAINT session_commands_kind_check CHECK (kind IN ('typed', 'exec', 'file'));
