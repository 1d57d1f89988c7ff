-- oml schema, version 1 (SQLite). Keep in step with ../postgres/0001_initial.sql:
-- same tables, same columns, same version number.
-- Every timestamp is Unix epoch milliseconds, UTC.

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'supervisor', 'agent')),
    active BOOLEAN NOT NULL DEFAULT 1,
    must_change_password BOOLEAN NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Consecutive failed logins, per username ('user') or per client IP ('ip').
CREATE TABLE login_failures (
    kind TEXT NOT NULL CHECK (kind IN ('user', 'ip')),
    subject TEXT NOT NULL,
    failures BIGINT NOT NULL,
    first_failure_at BIGINT NOT NULL,
    last_failure_at BIGINT NOT NULL,
    PRIMARY KEY (kind, subject)
);

-- A block on a username or an IP. Active while unblocked_at IS NULL and
-- (until_at IS NULL or until_at > now). until_at NULL = until an admin unblocks.
CREATE TABLE login_blocks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('user', 'ip')),
    subject TEXT NOT NULL,
    since_at BIGINT NOT NULL,
    until_at BIGINT,
    failures BIGINT NOT NULL,
    reason TEXT NOT NULL,
    unblocked_at BIGINT,
    unblocked_by TEXT
);
CREATE INDEX login_blocks_subject ON login_blocks (kind, subject);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    ip TEXT,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_subject ON audit_log (subject);

CREATE TABLE web_sessions (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    ip TEXT
);

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE asterisk_servers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    host TEXT NOT NULL,
    ami_port BIGINT NOT NULL DEFAULT 5038,
    ami_user TEXT NOT NULL,
    ami_secret TEXT NOT NULL,
    enabled BOOLEAN NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE trunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    dial_string TEXT NOT NULL,
    max_channels BIGINT NOT NULL,
    server_id BIGINT REFERENCES asterisk_servers (id),
    caller_id TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE campaigns (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    mode TEXT NOT NULL CHECK (mode IN ('preview', 'progressive', 'predictive')),
    trunk_id BIGINT NOT NULL REFERENCES trunks (id),
    delivery_context TEXT NOT NULL,
    delivery_exten TEXT NOT NULL,
    queue_name TEXT NOT NULL DEFAULT '',
    max_abandon_rate REAL NOT NULL DEFAULT 0.03,
    abandon_window TEXT NOT NULL DEFAULT 'us' CHECK (abandon_window IN ('us', 'uk')),
    abandon_seconds BIGINT NOT NULL DEFAULT 2,
    ring_timeout_s BIGINT NOT NULL DEFAULT 25,
    caller_id TEXT NOT NULL DEFAULT '',
    time_zone TEXT NOT NULL DEFAULT 'UTC',
    window_start_minute BIGINT NOT NULL DEFAULT 540,
    window_end_minute BIGINT NOT NULL DEFAULT 1260,
    days_mask BIGINT NOT NULL DEFAULT 31,
    priority BIGINT NOT NULL DEFAULT 10,
    state TEXT NOT NULL DEFAULT 'stopped' CHECK (state IN ('stopped', 'running', 'paused', 'finished')),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE reschedule_rules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    outcome TEXT NOT NULL,
    max_attempts BIGINT NOT NULL,
    retry_after_s BIGINT NOT NULL,
    backoff TEXT NOT NULL CHECK (backoff IN ('fixed', 'multiplied')),
    UNIQUE (campaign_id, outcome)
);

CREATE TABLE contact_lists (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    imported_at BIGINT NOT NULL,
    rows_total BIGINT NOT NULL DEFAULT 0,
    rows_imported BIGINT NOT NULL DEFAULT 0,
    rows_rejected BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE contacts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    list_id BIGINT NOT NULL REFERENCES contact_lists (id) ON DELETE CASCADE,
    phone TEXT NOT NULL,
    attributes TEXT NOT NULL DEFAULT '{}',
    state TEXT NOT NULL DEFAULT 'pending',
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL DEFAULT 0,
    last_outcome TEXT,
    claimed_by TEXT,
    updated_at BIGINT NOT NULL,
    UNIQUE (campaign_id, phone)
);
CREATE INDEX contacts_due ON contacts (campaign_id, state, next_attempt_at);

CREATE TABLE call_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    contact_id BIGINT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    attempt_no BIGINT NOT NULL,
    server_id BIGINT,
    channel_id TEXT NOT NULL,
    placed_at BIGINT NOT NULL,
    answered_at BIGINT,
    connected_at BIGINT,
    ended_at BIGINT,
    outcome TEXT,
    hangup_cause BIGINT,
    node TEXT NOT NULL DEFAULT '',
    UNIQUE (contact_id, attempt_no)
);
CREATE INDEX call_attempts_campaign ON call_attempts (campaign_id, placed_at);
CREATE INDEX call_attempts_open ON call_attempts (outcome) WHERE outcome IS NULL;

-- Do-not-call numbers; campaign_id NULL = every campaign.
CREATE TABLE dnc_numbers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id BIGINT REFERENCES campaigns (id) ON DELETE CASCADE,
    phone TEXT NOT NULL,
    added_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX dnc_numbers_unique ON dnc_numbers (COALESCE(campaign_id, 0), phone);
