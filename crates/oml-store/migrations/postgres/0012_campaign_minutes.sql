-- oml schema, version 12 (postgres). Keep in step with ../sqlite/0012_campaign_minutes.sql.
-- One row per campaign per minute, written by the engine that paced the
-- campaign during that minute (issue 20): what supervisors chart and export.
-- Counts are events of the minute (a second node that paced part of the
-- minute adds its own); gauges are averages of the engine's one-second
-- samples; rates are fractions (0.03 = 3 %). Kept `history.keep_days`
-- days (400 by default) and pruned daily.
CREATE TABLE campaign_minutes (
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    -- The minute's start, Unix epoch milliseconds, UTC.
    minute_at BIGINT NOT NULL,
    calls_placed BIGINT NOT NULL DEFAULT 0,
    live_answers BIGINT NOT NULL DEFAULT 0,
    -- Answering machines, when the PBX detects them; NULL when unknown.
    machines BIGINT,
    abandons BIGINT NOT NULL DEFAULT 0,
    connected BIGINT NOT NULL DEFAULT 0,
    -- Attempts that ended in the minute (the answer rate's denominator).
    ended BIGINT NOT NULL DEFAULT 0,
    agents_logged_in DOUBLE PRECISION NOT NULL DEFAULT 0,
    agents_ready DOUBLE PRECISION NOT NULL DEFAULT 0,
    agents_talking DOUBLE PRECISION NOT NULL DEFAULT 0,
    agents_paused DOUBLE PRECISION NOT NULL DEFAULT 0,
    agents_wrap_up DOUBLE PRECISION NOT NULL DEFAULT 0,
    occupancy DOUBLE PRECISION NOT NULL DEFAULT 0,
    answer_rate DOUBLE PRECISION,
    avg_talk_s DOUBLE PRECISION,
    avg_wait_s DOUBLE PRECISION,
    calls_in_flight DOUBLE PRECISION NOT NULL DEFAULT 0,
    dial_ahead DOUBLE PRECISION NOT NULL DEFAULT 0,
    -- The predictive pacer's risk threshold; NULL for other modes.
    risk_threshold DOUBLE PRECISION,
    -- The regulatory window's running abandon rate at the minute's end,
    -- and the campaign's limit then.
    window_abandon_rate DOUBLE PRECISION NOT NULL DEFAULT 0,
    max_abandon_rate DOUBLE PRECISION NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, minute_at)
);
CREATE INDEX campaign_minutes_at ON campaign_minutes (minute_at);
