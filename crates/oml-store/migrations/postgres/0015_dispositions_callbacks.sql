-- oml schema, version 15 (postgres). Keep in step with ../sqlite/0015_dispositions_callbacks.sql.
-- Dispositions, wrap-up and callbacks (issue 19 items 5 and 6).
--
-- A campaign's dispositions: what an agent says of a call in the wrap-up
-- form. is_final ends the contact (done); otherwise it is tried again
-- retry_after_s later, or at the callback's time when callback is set;
-- dnc adds the number to the campaign's or the global do-not-call list.
CREATE TABLE campaign_dispositions (
    id BIGSERIAL PRIMARY KEY,
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    is_final BOOLEAN NOT NULL DEFAULT FALSE,
    callback BOOLEAN NOT NULL DEFAULT FALSE,
    dnc TEXT NOT NULL DEFAULT 'no' CHECK (dnc IN ('no', 'campaign', 'global')),
    retry_after_s BIGINT NOT NULL DEFAULT 3600,
    created_at BIGINT NOT NULL,
    UNIQUE (campaign_id, name)
);

-- How long an agent may stay in wrap-up (paused with reason wrap-up) after
-- a call of the campaign; a campaign without a row has the default.
CREATE TABLE campaign_wrapup (
    campaign_id BIGINT PRIMARY KEY REFERENCES campaigns (id) ON DELETE CASCADE,
    limit_s BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Each attempt's disposition, who gave it and when (NULL: none given).
ALTER TABLE call_attempts ADD COLUMN disposition TEXT;
ALTER TABLE call_attempts ADD COLUMN disposed_by TEXT;
ALTER TABLE call_attempts ADD COLUMN disposed_at BIGINT;

-- Callbacks: a contact to call again at due_at (epoch ms, UTC; time_zone is
-- the zone the agent chose it in), for one agent (user_id) or anyone (NULL).
-- Open while closed_at is NULL: until a later call of the contact is
-- dispositioned or the contact ends. The hopper claims due callbacks first.
CREATE TABLE callbacks (
    id BIGSERIAL PRIMARY KEY,
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    contact_id BIGINT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    user_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    due_at BIGINT NOT NULL,
    time_zone TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    closed_at BIGINT
);
CREATE UNIQUE INDEX callbacks_open_contact ON callbacks (contact_id) WHERE closed_at IS NULL;
CREATE INDEX callbacks_due ON callbacks (campaign_id, due_at) WHERE closed_at IS NULL;
CREATE INDEX callbacks_user ON callbacks (user_id) WHERE closed_at IS NULL;
