-- Whether a server may receive the password a user typed at the jump (SSH: password and keyboard-interactive
-- towards the backend; RDP: the NLA logon handed on by CredSSP or in the Client Info). On by default so that
-- servers keep working as before this column existed; turn it off where the jump password must stay at the
-- jump (the backend then gets the appliance's key, the user's forwarded agent or a vaulted credential).
ALTER TABLE servers ADD COLUMN password_passthrough boolean NOT NULL DEFAULT true;
