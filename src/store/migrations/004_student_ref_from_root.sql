-- The student ref is now derived from the pupil's scrypt root,
-- hex(HMAC(k_ref, "ref\0" || root)), instead of hex(HMAC(k_ref, school "\0"
-- studentKey)), so a database dump and the master key no longer test a
-- guessed key at the cost of one HMAC (docs/pseudonyms.md).
--
-- ref_version says which form a row's student_ref has: 1 the first form, 2
-- the one from the root. Rows that exist now are version 1 (adding a column
-- with a constant default rewrites nothing). The default stays 1 so that a
-- process of the previous release, still running during a rolling upgrade,
-- labels what it writes correctly; this release always writes 2. Version-1
-- rows move to version 2 at the pupil's next login and otherwise age out
-- with retention (docs/pseudonyms.md, "The transition").
-- The checks are NOT VALID: every existing row is 1 already, and validating
-- would scan the ledger under an exclusive lock; new rows are checked.
ALTER TABLE disclosures ADD COLUMN ref_version smallint NOT NULL DEFAULT 1;
ALTER TABLE disclosures ADD CONSTRAINT disclosures_ref_version CHECK (ref_version IN (1, 2)) NOT VALID;
ALTER TABLE objections ADD COLUMN ref_version smallint NOT NULL DEFAULT 1;
ALTER TABLE objections ADD CONSTRAINT objections_ref_version CHECK (ref_version IN (1, 2)) NOT VALID;

-- What is left of the first form, read at start-up (and shrinking as pupils
-- log in). Building it reads the ledger once while ledger writes wait
-- (docs/pseudonyms.md, "The transition", has a measurement).
CREATE INDEX disclosures_legacy_ref ON disclosures (school_id, student_ref) WHERE ref_version = 1;
CREATE INDEX objections_legacy_ref ON objections (school_id, student_ref) WHERE ref_version = 1;
