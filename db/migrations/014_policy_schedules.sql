-- Recurring weekly windows on a policy ("Mon-Fri 08:00-18:00 Europe/Berlin", policy/schedule.ts), stored in
-- their canonical text; empty = any time between valid_from and valid_until.
ALTER TABLE policies ADD COLUMN schedules text[] NOT NULL DEFAULT '{}'
  CHECK (cardinality(schedules) <= 20);
