-- oml schema, version 14 (postgres). Keep in step with ../sqlite/0014_agent_states.sql.
-- The agent page (issue 19 items 2 and 4): what each agent is doing, as
-- spans of time. An agent logged in to their campaigns' queues has one open
-- span (ended_at NULL): ready, paused (with the reason they chose, or
-- wrap-up) or preview (a contact reserved and shown to them); logging out
-- closes it. Closed spans measure the time agents spend in each state (the
-- preview time the simulator models), and the open one is the agent's
-- state for supervisors, whichever node serves the page.
CREATE TABLE agent_states (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    state TEXT NOT NULL CHECK (state IN ('ready', 'paused', 'preview')),
    reason TEXT,
    started_at BIGINT NOT NULL,
    ended_at BIGINT
);
CREATE UNIQUE INDEX agent_states_open ON agent_states (user_id) WHERE ended_at IS NULL;
CREATE INDEX agent_states_user ON agent_states (user_id, started_at);

-- The agent page finds the call connected to an agent by the name the
-- engine stores (the queue member's name, else its interface).
CREATE INDEX call_attempts_agent ON call_attempts (agent, id) WHERE agent IS NOT NULL;
