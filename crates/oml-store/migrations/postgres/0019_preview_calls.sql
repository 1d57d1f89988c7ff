-- oml schema, version 19 (postgres). Keep in step with ../sqlite/0019_preview_calls.sql.
-- Preview dialing (issue 19 item 4): an agent previewing a reserved contact
-- (state 'reserved', claimed_by 'agent:<user id>') presses Call; the page
-- sets the contact to 'preview_call' and stores here the agent's interface.
-- The engine pacing the campaign takes the row (the contact becomes a hopper
-- contact of that node, so the attempt is committed before the Originate as
-- for any call) and originates agent-first: the agent's interface rings,
-- then the campaign's trunk dials the customer.
CREATE TABLE preview_calls (
    contact_id BIGINT PRIMARY KEY REFERENCES contacts (id) ON DELETE CASCADE,
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    interface TEXT NOT NULL,
    requested_at BIGINT NOT NULL
);
CREATE INDEX preview_calls_campaign ON preview_calls (campaign_id, requested_at);

-- The agent page finds the contact an agent holds by its owner.
CREATE INDEX contacts_previewing ON contacts (claimed_by) WHERE state IN ('reserved', 'preview_call');
