-- oml schema, version 17 (postgres). Keep in step with ../sqlite/0017_attempt_recording.sql.
-- Each attempt's recording (issue 18 item 4): the file name the rendered
-- dialplan gave MixMonitor (dialer-<campaign id>-<YYYYMMDD>-<number>-<uniqueid>.<format>,
-- no folder: it lives in the configured recordings folder), read by the
-- engine from the PBX's record of the attempt (RECFILE) before deleting it.
-- NULL for an attempt that was not recorded, and for attempts before schema 17.
ALTER TABLE call_attempts ADD COLUMN recording TEXT;
