-- Agents and their phones (issue 19): each agent's SIP extension, stored and
-- editable (the rendered oml_pjsip_agents.conf names its endpoint after it,
-- the agent page adds PJSIP/<extension> to the queues), and the campaigns the
-- agent works. Agents created before schema 11 keep the extension rendering
-- gave them (1000 + id). NULL for other roles; unique when set.
ALTER TABLE users ADD COLUMN extension TEXT;
UPDATE users SET extension = CAST(1000 + id AS TEXT) WHERE role = 'agent';
CREATE UNIQUE INDEX users_extension ON users (extension);

CREATE TABLE agent_campaigns (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, campaign_id)
);
CREATE INDEX agent_campaigns_campaign ON agent_campaigns (campaign_id);
