-- A campaign's answered calls go through its own rendered context,
-- oml-campaign-<id> (oml_store::dialplan), stored as an empty delivery
-- context and extension; a delivery context is now only one of the
-- administrator's. `oml-campaign,1` was the default of schema 6 and earlier:
-- no rendered dialplan has that context (issue 15: the engine originated to
-- it while the rendered dialplan expected oml-campaign-<id>), so those
-- campaigns take their own context.
UPDATE campaigns
   SET delivery_context = '', delivery_exten = ''
 WHERE delivery_context = 'oml-campaign' AND delivery_exten = '1';
