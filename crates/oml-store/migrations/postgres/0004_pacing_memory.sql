-- oml schema, version 4 (PostgreSQL). Keep in step with ../sqlite/0004_pacing_memory.sql.
-- What a campaign's pacer learned (recent answers, ring, talk and wrap-up
-- times, in the PBX's seconds), saved by the engine that paces it so that a
-- restart or a take-over starts from it (weighted by its age), not from the priors.
CREATE TABLE pacing_memory (
    campaign_id BIGINT PRIMARY KEY REFERENCES campaigns (id) ON DELETE CASCADE,
    saved_at BIGINT NOT NULL,
    node TEXT NOT NULL,
    data TEXT NOT NULL
);
-- The abandon ledger of a campaign is read by answer time.
CREATE INDEX call_attempts_answered ON call_attempts (campaign_id, answered_at) WHERE answered_at IS NOT NULL;
