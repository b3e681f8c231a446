-- Per server group: also keep the files moved by scp and SFTP (content-addressed by SHA-256 under the
-- recordings directory). Off by default; a file larger than keep_files_max_mb keeps its metadata and hash only.
ALTER TABLE server_groups
  ADD COLUMN keep_files boolean NOT NULL DEFAULT false,
  ADD COLUMN keep_files_max_mb integer NOT NULL DEFAULT 100
    CHECK (keep_files_max_mb BETWEEN 1 AND 1048576);
