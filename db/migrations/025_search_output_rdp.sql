-- Search (issue 17) beyond commands: the lines SSH terminals showed (bounded per session), and on RDP
-- desktops the lines typed after logon and the clipboard texts.
ALTER TABLE session_commands DROP CONSTRAINT session_commands_kind_check;
ALTER TABLE session_commands ADD CONSTRAINT session_commands_kind_check
  CHECK (kind IN ('typed', 'exec', 'file', 'output', 'keys', 'clipboard'));
