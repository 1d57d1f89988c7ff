-- Do-not-call entries written without a country code keep their national
-- number, under which they match a contact of any country code (issue 16:
-- `01140000001` did not match the contact `+541140000001`). Existing entries
-- stored without `+` were written without a country code: their national
-- number is the digits less one leading trunk `0` (the rule of
-- oml_store::phone::national_guess, which the application uses when no
-- default country is known). Entries stored as `+...` keep matching exactly.
ALTER TABLE dnc_numbers ADD COLUMN national TEXT;
UPDATE dnc_numbers
   SET national = CASE WHEN phone LIKE '0%' THEN substr(phone, 2) ELSE phone END
 WHERE phone NOT LIKE '+%';
CREATE INDEX dnc_numbers_national ON dnc_numbers (national) WHERE national IS NOT NULL;
