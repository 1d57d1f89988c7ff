-- oml schema, version 3 (PostgreSQL). Keep in step with ../sqlite/0003_api_token_expiry.sql.
-- An API token may expire (NULL = never, the tokens made before version 3).
ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT;
