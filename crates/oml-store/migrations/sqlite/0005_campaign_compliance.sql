-- oml schema, version 5 (SQLite). Keep in step with ../postgres/0005_campaign_compliance.sql.
-- A campaign may go beyond its rule set's limits (ring timeout under 15 s,
-- abandon seconds over 2, maximum abandon rate over 3 %) only when an
-- administrator said so explicitly; the campaign's report then shows it.
ALTER TABLE campaigns ADD COLUMN non_compliant BOOLEAN NOT NULL DEFAULT 0;
-- Campaigns stored before version 5 with such settings keep them, marked.
UPDATE campaigns SET non_compliant = 1
 WHERE ring_timeout_s < 15 OR abandon_seconds > 2 OR max_abandon_rate > 0.030000001;
