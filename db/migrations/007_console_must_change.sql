-- A console account whose password someone else set (admin add, a reset by an admin) must choose its own
-- at its next login before the console lets it do anything else; changing it clears the flag.
ALTER TABLE console_users ADD COLUMN must_change_password boolean NOT NULL DEFAULT false;
