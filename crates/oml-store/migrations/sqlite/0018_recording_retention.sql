-- oml schema, version 18 (sqlite). Keep in step with ../postgres/0018_recording_retention.sql.
-- Recording retention (issue 18 item 4): when the retention job (or
-- `oml recordings prune`) deleted an attempt's recording file, Unix ms.
-- The attempt keeps its `recording` name, so the console can say
-- "deleted by retention on ..." instead of showing a broken link.
-- NULL while the file is kept (or the attempt has no recording).
ALTER TABLE call_attempts ADD COLUMN recording_deleted_at BIGINT;
