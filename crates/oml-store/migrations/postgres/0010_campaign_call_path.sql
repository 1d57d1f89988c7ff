-- oml schema, version 10 (postgres). Keep in step with ../sqlite/0010_campaign_call_path.sql.
-- What a campaign's answered calls go through in the rendered dialplan
-- (issue 18): answering-machine detection and what to do with a machine
-- (off, hangup, message with machine_sound), Asterisk AMD() arguments as
-- nine comma-separated numbers (empty: Asterisk's defaults), recording
-- (off, all) and its format, the welcome message and the abandon message
-- played when no agent takes the call within abandon_seconds. Sounds are
-- names Asterisk plays (no extension). One row per campaign that has been
-- given these settings; a campaign without a row has them all off.
CREATE TABLE campaign_call_path (
    campaign_id BIGINT PRIMARY KEY REFERENCES campaigns (id) ON DELETE CASCADE,
    machine TEXT NOT NULL DEFAULT 'off' CHECK (machine IN ('off', 'hangup', 'message')),
    machine_sound TEXT NOT NULL DEFAULT '',
    amd_params TEXT NOT NULL DEFAULT '',
    recording TEXT NOT NULL DEFAULT 'off' CHECK (recording IN ('off', 'all')),
    recording_format TEXT NOT NULL DEFAULT 'wav' CHECK (recording_format IN ('wav', 'gsm', 'mp3')),
    welcome_sound TEXT NOT NULL DEFAULT '',
    abandon_sound TEXT NOT NULL DEFAULT '',
    updated_at BIGINT NOT NULL
);
