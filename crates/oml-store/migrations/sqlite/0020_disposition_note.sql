-- oml schema, version 20 (sqlite). Keep in step with ../postgres/0020_disposition_note.sql.
-- The agent's note with a disposition (issue 19 item 5: the wrap-up form
-- has a note field). NULL when none was written, and before schema 20.
ALTER TABLE call_attempts ADD COLUMN disposition_note TEXT;
