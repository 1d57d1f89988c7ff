-- The agent who took each call (issue 15 item 7): the queue member's name as
-- Asterisk's AgentConnect gives it (MemberName, else Interface); NULL for a
-- call no agent took, and for attempts recorded before schema 8.
ALTER TABLE call_attempts ADD COLUMN agent TEXT;

-- `oml contact show PHONE` and the API's `?phone=` look a number up in every
-- campaign: the (campaign_id, phone) unique index cannot serve that.
CREATE INDEX contacts_phone ON contacts (phone);
