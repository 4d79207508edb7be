-- Privacy rights and accountability (docs/privacy.md): the disclosure
-- ledger and parents' objections. A pupil is named only by the student ref
-- (docs/pseudonyms.md, lower-case hex HMAC); never by the school's key, and
-- no attribute value is ever stored, only claim names.

-- One row per (pupil, client, released claim set, school day), with how often
-- that set was released that day. The claim set is the released names,
-- sorted and joined with ','.
CREATE TABLE disclosures (
  school_id   text NOT NULL,
  student_ref text NOT NULL,
  client_id   text NOT NULL,
  supplier_id text NOT NULL,
  claims      text NOT NULL,
  day         date NOT NULL,
  count       integer NOT NULL CHECK (count > 0),
  PRIMARY KEY (school_id, student_ref, client_id, claims, day)
);
-- Breach scope: a supplier's (or client's) disclosures over a period, per school and platform-wide.
CREATE INDEX disclosures_school_supplier ON disclosures (school_id, supplier_id, day);
CREATE INDEX disclosures_supplier ON disclosures (supplier_id, day);
-- Retention: purging by day.
CREATE INDEX disclosures_day ON disclosures (day);

-- An objection (bezwaar): this pupil's data is not released to one client
-- (product) or to every product of one supplier.
CREATE TABLE objections (
  id          uuid PRIMARY KEY,
  school_id   text NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
  student_ref text NOT NULL,
  client_id   text,
  supplier_id text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  CHECK ((client_id IS NULL) <> (supplier_id IS NULL))
);
CREATE UNIQUE INDEX objections_target ON objections (school_id, student_ref, coalesce(client_id, ''), coalesce(supplier_id, ''));
CREATE INDEX objections_school ON objections (school_id, created_at, id);
