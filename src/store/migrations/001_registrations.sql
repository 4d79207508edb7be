-- Registrations, licences, admin tokens and audit events (docs/registrations.md, docs/privacy.md).
-- Each registration is kept as the document the admin API and seed file use
-- (a jsonb column), with the keys the rules need as real columns.
-- Client secrets are never stored: a client document carries only secretHash.

CREATE TABLE schools (
  id          text PRIMARY KEY,
  doc         jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE suppliers (
  id          text PRIMARY KEY,
  doc         jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE clients (
  id          text PRIMARY KEY,
  supplier_id text NOT NULL REFERENCES suppliers (id),
  doc         jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX clients_supplier ON clients (supplier_id);

CREATE TABLE licences (
  id          uuid PRIMARY KEY,
  school_id   text NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
  client_id   text NOT NULL REFERENCES clients (id),
  doc         jsonb NOT NULL,
  valid_from  date,
  valid_until date,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
-- Listing a school's licences in a stable order.
CREATE INDEX licences_school ON licences (school_id, created_at, id);
CREATE INDEX licences_client ON licences (client_id);

CREATE TABLE admin_tokens (
  id          uuid PRIMARY KEY,
  -- SHA-256 of the token: the token itself is shown once and never stored.
  hash        bytea NOT NULL UNIQUE,
  -- NULL: an operator token; else the one school it may manage.
  school_id   text REFERENCES schools (id) ON DELETE CASCADE,
  label       text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  revoked_at  timestamptz
);

CREATE TABLE audit_events (
  id          uuid PRIMARY KEY,
  at          timestamptz NOT NULL,
  -- An admin token id, 'bootstrap', 'seed' or 'cli'.
  actor       text NOT NULL,
  -- The school the change concerns, when it concerns one (what a school admin may read).
  school_id   text,
  action      text NOT NULL,
  target      text NOT NULL,
  before      jsonb,
  after       jsonb
);
CREATE INDEX audit_events_order ON audit_events (at DESC, id);
CREATE INDEX audit_events_school ON audit_events (school_id, at DESC, id);
