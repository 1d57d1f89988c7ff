-- oml schema, version 2 (PostgreSQL). Keep in step with ../sqlite/0002_api_tokens.sql.
-- Bearer tokens for the JSON API: one per (user, label); only the token's
-- SHA-256 is stored, so a leaked database holds no usable token.

CREATE TABLE api_tokens (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    label TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    UNIQUE (user_id, label)
);
