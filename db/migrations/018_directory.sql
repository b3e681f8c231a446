-- Directory (LDAP): users, user groups and SSH keys that the directory manages carry its DN / a mark;
-- console accounts made by a directory login carry their DN.
ALTER TABLE users ADD COLUMN directory_dn text UNIQUE;
ALTER TABLE user_groups ADD COLUMN directory_dn text UNIQUE;
ALTER TABLE user_ssh_keys ADD COLUMN from_directory boolean NOT NULL DEFAULT false;
ALTER TABLE console_users ADD COLUMN directory_dn text UNIQUE;
